"""A PatchGAN discriminator with spectral normalisation (stage 2)."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmagic.registry import MODELS
from torch import Tensor, nn
from torch.nn.utils import spectral_norm


@MODELS.register_module()
class SNPatchDiscriminator(nn.Module):
    """PatchGAN (pix2pix's 70×70 design) with spectral norm on every convolution.

    mmagic's ``PatchDiscriminator`` has batch/instance norm but no spectral norm;
    spectral norm bounds the discriminator's Lipschitz constant, which keeps the
    adversarial stage stable at the small batches a CPU affords (no batch statistics
    to drift). ``num_conv`` stride-2 4×4 convolutions (width doubling up to 8×), one
    stride-1 convolution, and a 1-channel logit map: one real/fake score per patch.
    Any input size works (the map shrinks with it); inputs must be at least
    ``3 * 2 ** num_conv`` pixels per side for a non-empty map. :meth:`features` pools
    the taps into one vector per image: stage 2's CGCL can use it as its embedding
    (``CGCLLoss(embedding='discriminator')``) while the discriminator keeps training.

    Args:
        in_channels (int): Input channels. Defaults to 3.
        base_channels (int): Width of the first convolution. Defaults to 64.
        num_conv (int): Stride-2 convolutions. Defaults to 3.
        use_spectral_norm (bool): Apply spectral norm. Defaults to True.
    """

    def __init__(self,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 num_conv: int = 3,
                 use_spectral_norm: bool = True) -> None:
        super().__init__()
        if num_conv < 1 or base_channels < 1 or in_channels < 1:
            raise ValueError('in_channels, base_channels and num_conv must be >= 1')
        norm = spectral_norm if use_spectral_norm else (lambda m: m)
        layers, cin = [], in_channels
        for i in range(num_conv + 1):
            cout = base_channels * min(2**i, 8)
            stride = 2 if i < num_conv else 1
            layers.append(nn.Sequential(norm(nn.Conv2d(cin, cout, 4, stride, 1)),
                                        nn.LeakyReLU(0.2, inplace=True)))
            cin = cout
        self.layers = nn.ModuleList(layers)
        self.head = norm(nn.Conv2d(cin, 1, 4, 1, 1))
        self.min_size = 3 * 2**num_conv
        self._channels = {f'layer{i}': base_channels * min(2**i, 8) for i in range(num_conv + 1)}

    @property
    def feature_channels(self) -> Dict[str, int]:
        """Channels of the taps ``layer0..layer{num_conv}``."""
        return dict(self._channels)

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Patch logits, (N, 1, h, w).

        Args:
            x (Tensor): Images in [0, 1], (N, C, H, W).
            return_features (bool): Also return the taps. Defaults to False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: Logits (and taps).
        """
        feats = self._taps(x)
        out = self.head(feats[f'layer{len(self.layers) - 1}'])
        return (out, feats) if return_features else out

    def features(self, x: Tensor, layers: Optional[Sequence[str]] = None) -> Tensor:
        """Taps averaged over space per channel and concatenated: one vector per image.

        The head is not run. Gradients flow to ``x`` and, where they require it, to the
        parameters (the caller decides: stage 2's generator step switches them off).

        Args:
            x (Tensor): Images in [0, 1], (N, C, H, W).
            layers (Sequence[str], optional): Taps to pool, of
                :attr:`feature_channels`. Defaults to None (all of them).

        Returns:
            Tensor: (N, sum of the taps' channels).
        """
        names = tuple(layers) if layers else tuple(self._channels)
        missing = [name for name in names if name not in self._channels]
        if missing:
            raise ValueError(f'SNPatchDiscriminator has no taps {missing} (it has '
                             f'{sorted(self._channels)})')
        feats = self._taps(x, last=max(int(name[len('layer'):]) for name in names))
        return torch.cat([feats[name].mean((2, 3)) for name in names], 1)

    def _taps(self, x: Tensor, last: Optional[int] = None) -> Dict[str, Tensor]:
        if min(x.shape[-2:]) < self.min_size:
            raise ValueError(f'SNPatchDiscriminator: inputs must be at least {self.min_size} '
                             f'pixels per side, got {tuple(x.shape[-2:])}')
        feats = {}
        for i, layer in enumerate(self.layers[:None if last is None else last + 1]):
            x = layer(x)
            feats[f'layer{i}'] = x
        return feats
