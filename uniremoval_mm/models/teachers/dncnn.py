"""DnCNN (Zhang et al., TIP'17): residual learning of the noise with conv + BN + ReLU.

The network predicts the noise; the clean image is the input minus it. The blind model
(DnCNN-B) is trained on grayscale images with noise levels 0-55. For RGB inputs this
module applies the grayscale network to each channel independently. Written by us from
the paper; the layer layout (``dncnn.N``) follows the public PyTorch port so its
official weights load unchanged.
"""
from typing import Dict, Tuple, Union

from mmagic.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class DnCNN(nn.Module):
    """DnCNN denoiser (667 008 trainable parameters for DnCNN-B's 20 layers).

    Args:
        depth (int): Convolution layers (17 for DnCNN-S, 20 for DnCNN-B). Defaults to 20.
        channels (int): Hidden channels. Defaults to 64.
        image_channels (int): Channels the weights were trained on (1: grayscale).
            Inputs with more channels are denoised channel by channel. Defaults to 1.

    Feature taps (``return_features=True``): ``mid`` (after the middle layer) and
    ``last`` (before the final convolution), ``channels`` each; for RGB inputs they hold
    the per-channel maps side by side (``channels * 3``).
    """

    def __init__(self, depth: int = 20, channels: int = 64, image_channels: int = 1) -> None:
        super().__init__()
        if depth < 3:
            raise ValueError(f'depth must be >= 3, got {depth}')
        layers = [nn.Conv2d(image_channels, channels, 3, padding=1, bias=False),
                  nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(channels, channels, 3, padding=1, bias=False),
                       nn.BatchNorm2d(channels), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(channels, image_channels, 3, padding=1, bias=False))
        self.dncnn = nn.Sequential(*layers)
        self.image_channels = image_channels
        self.channels = channels
        self._mid = 1 + 3 * ((depth - 2) // 2)  # the middle conv-BN-ReLU block's ReLU

    @property
    def feature_channels(self) -> Dict[str, int]:
        """Channels of every feature tap for 3-channel inputs, by name."""
        per = 3 // self.image_channels if self.image_channels in (1, 3) else 1
        return {'mid': self.channels * per, 'last': self.channels * per}

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Denoise ``x``.

        Args:
            x (Tensor): Noisy images in [0, 1], (N, C, H, W); C a multiple of
                ``image_channels``.
            return_features (bool): Also return the feature taps. Defaults to False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: ``x`` minus the predicted noise,
            and the taps when asked for.
        """
        n, c, h, w = x.shape
        if c % self.image_channels:
            raise ValueError(f'{c} input channels is not a multiple of the network\'s '
                             f'{self.image_channels}')
        groups = c // self.image_channels
        y = x.reshape(n * groups, self.image_channels, h, w)
        feats = {}
        for i, layer in enumerate(self.dncnn):
            if i == len(self.dncnn) - 1:
                feats['last'] = y
            y = layer(y)
            if i == self._mid:
                feats['mid'] = y
        out = x - y.reshape(n, c, h, w)
        if not return_features:
            return out
        return out, {k: v.reshape(n, groups * self.channels, h, w) for k, v in feats.items()}
