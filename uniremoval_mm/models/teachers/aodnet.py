"""AOD-Net (Li et al., ICCV'17): all-in-one dehazing by a reformulated scattering model.

The atmospheric scattering model ``I = J·t + A·(1 - t)`` is rewritten as
``J = K(I)·I - K(I) + b`` with one learned map ``K`` (b = 1). Five small convolutions
estimate ``K``. Written by us from the paper; the layer names (``e_conv1..5``) follow the
public PyTorch port so its official weights load unchanged.
"""
from typing import Dict, Tuple, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn


@MODELS.register_module()
class AODNet(nn.Module):
    """AOD-Net dehazing network (1 761 parameters).

    Args:
        bias (float): The constant ``b`` of ``J = K·I - K + b``. Defaults to 1.0.

    Feature taps (``return_features=True``): ``k`` (the estimated K map, 3 channels) and
    ``x4`` (the last hidden map, 3 channels), both at full resolution.
    """

    def __init__(self, bias: float = 1.0) -> None:
        super().__init__()
        self.bias = bias
        self.e_conv1 = nn.Conv2d(3, 3, 1)
        self.e_conv2 = nn.Conv2d(3, 3, 3, padding=1)
        self.e_conv3 = nn.Conv2d(6, 3, 5, padding=2)
        self.e_conv4 = nn.Conv2d(6, 3, 7, padding=3)
        self.e_conv5 = nn.Conv2d(12, 3, 3, padding=1)

    @property
    def feature_channels(self) -> Dict[str, int]:
        """Channels of every feature tap, by name."""
        return {'x4': 3, 'k': 3}

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Dehaze ``x`` in one pass: ``relu(K(x)·x - K(x) + b)``.

        Args:
            x (Tensor): Hazy RGB images in [0, 1], (N, 3, H, W).
            return_features (bool): Also return the taps ``k`` and ``x4``. Defaults to
                False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: Dehazed images, non-negative
            (the final ReLU) but not clamped above; with ``return_features``, also
            ``{'x4': ..., 'k': ...}``.
        """
        x1 = F.relu(self.e_conv1(x))
        x2 = F.relu(self.e_conv2(x1))
        x3 = F.relu(self.e_conv3(torch.cat([x1, x2], 1)))
        x4 = F.relu(self.e_conv4(torch.cat([x2, x3], 1)))
        k = F.relu(self.e_conv5(torch.cat([x1, x2, x3, x4], 1)))
        out = F.relu(k * x - k + self.bias)
        return (out, {'x4': x4, 'k': k}) if return_features else out
