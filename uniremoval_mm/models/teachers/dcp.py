"""Dark channel prior dehazing (He, Sun and Tang, CVPR'09 / TPAMI'11), batched in torch.

In a haze-free outdoor patch, some pixel is dark in some colour channel. So the dark
channel of the hazy image, normalised by the airlight, estimates the haze:
``t = 1 - ω · min_patch min_c (I_c / A_c)``. The transmission is refined with a guided
filter (He et al., ECCV'10) on the grey image, and the scene is recovered with
``J = (I - A) / max(t, t0) + A``. No weights; every step is a tensor op, so it runs on
batches and on any device. Not differentiable in a useful way (min and top-k); it serves
as a frozen teacher.
"""
from typing import Dict, Tuple, Union

import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn


def dark_channel(x: Tensor, patch: int) -> Tensor:
    """Per-pixel minimum over channels and a ``patch`` x ``patch`` window.

    Args:
        x (Tensor): (N, C, H, W).
        patch (int): Window size (odd).

    Returns:
        Tensor: (N, 1, H, W).
    """
    m = x.min(dim=1, keepdim=True).values
    pad = patch // 2
    m = F.pad(m, (pad, pad, pad, pad), mode='replicate')
    return -F.max_pool2d(-m, patch, stride=1)


def box_filter(x: Tensor, radius: int) -> Tensor:
    """Mean over a (2r+1)^2 window, windows clipped at the borders (as He's code)."""
    k = 2 * radius + 1
    return F.avg_pool2d(x, k, stride=1, padding=radius, count_include_pad=False)


def guided_filter(guide: Tensor, src: Tensor, radius: int, eps: float) -> Tensor:
    """He et al.'s guided filter with a grey guide (ECCV'10, Algorithm 1).

    Args:
        guide (Tensor): Guide image, (N, 1, H, W).
        src (Tensor): Image to filter, (N, 1, H, W).
        radius (int): Window radius.
        eps (float): Regularisation.

    Returns:
        Tensor: The filtered ``src``.
    """
    mean_i = box_filter(guide, radius)
    mean_p = box_filter(src, radius)
    cov_ip = box_filter(guide * src, radius) - mean_i * mean_p
    var_i = box_filter(guide * guide, radius) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box_filter(a, radius) * guide + box_filter(b, radius)


@MODELS.register_module()
class DarkChannelPrior(nn.Module):
    """Dark channel prior dehazing with guided-filter refinement.

    Args:
        patch (int): Dark-channel window (odd). Defaults to 15 (the paper's).
        omega (float): Fraction of haze removed (keeps some for depth cues).
            Defaults to 0.95.
        top_fraction (float): Brightest fraction of the dark channel used to pick the
            airlight. Defaults to 0.001.
        t0 (float): Lower bound of the transmission. Defaults to 0.1.
        radius (int): Guided-filter radius; 0 disables refinement. Defaults to 60
            (the paper's, for images of about 600x400; scaled by ``radius_scale``).
        eps (float): Guided-filter regularisation. Defaults to 1e-3.
        radius_scale (bool): Scale the radius with the image's shorter side relative
            to 400 px, so small images are not over-smoothed. Defaults to True.

    Feature taps (``return_features=True``): ``transmission`` (refined t, 1 channel) and
    ``dark`` (the dark channel, 1 channel). :meth:`airlight` gives A.
    """

    def __init__(self,
                 patch: int = 15,
                 omega: float = 0.95,
                 top_fraction: float = 0.001,
                 t0: float = 0.1,
                 radius: int = 60,
                 eps: float = 1e-3,
                 radius_scale: bool = True) -> None:
        super().__init__()
        if patch < 1 or patch % 2 == 0:
            raise ValueError(f'patch must be a positive odd number, got {patch}')
        if not 0 < omega <= 1 or not 0 < t0 < 1 or not 0 < top_fraction <= 1:
            raise ValueError(f'need 0 < omega <= 1, 0 < t0 < 1, 0 < top_fraction <= 1; got '
                             f'{omega}, {t0}, {top_fraction}')
        self.patch, self.omega, self.top_fraction, self.t0 = patch, omega, top_fraction, t0
        self.radius, self.eps, self.radius_scale = radius, eps, radius_scale

    @property
    def feature_channels(self) -> Dict[str, int]:
        """Channels of every feature tap, by name."""
        return {'transmission': 1, 'dark': 1}

    def airlight(self, x: Tensor, dark: Tensor) -> Tensor:
        """Mean colour of the input at the brightest ``top_fraction`` of the dark channel.

        Args:
            x (Tensor): Hazy images, (N, 3, H, W).
            dark (Tensor): Their dark channels, (N, 1, H, W).

        Returns:
            Tensor: Airlight per image, (N, 3, 1, 1).
        """
        n, c = x.shape[:2]
        flat_dark = dark.flatten(1)
        k = max(1, int(flat_dark.shape[1] * self.top_fraction))
        idx = flat_dark.topk(k, dim=1).indices  # (N, k)
        picked = x.flatten(2).gather(2, idx.unsqueeze(1).expand(n, c, k))
        return picked.mean(2).clamp_min(1e-3).view(n, c, 1, 1)

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Dehaze ``x``.

        Args:
            x (Tensor): Hazy RGB images in [0, 1], (N, 3, H, W).
            return_features (bool): Also return the taps. Defaults to False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: Dehazed images clamped to
            [0, 1], and the taps when asked for.
        """
        dark = dark_channel(x, self.patch)
        a = self.airlight(x, dark)
        t = 1 - self.omega * dark_channel(x / a, self.patch)
        radius = self.radius
        if self.radius_scale:
            radius = max(1, round(self.radius * min(x.shape[-2:]) / 400))
        if radius > 0:
            grey = (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])
            t = guided_filter(grey, t, radius, self.eps)
        out = ((x - a) / t.clamp_min(self.t0) + a).clamp(0, 1)
        if not return_features:
            return out
        return out, {'transmission': t, 'dark': dark}
