"""Priors for restoring real degraded photos that have no clean reference (stage 2)."""
from typing import Dict

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

_LUMA = (0.299, 0.587, 0.114)


def _luma(img: Tensor) -> Tensor:
    r, g, b = img[:, 0:1], img[:, 1:2], img[:, 2:3]
    return _LUMA[0] * r + _LUMA[1] * g + _LUMA[2] * b


def _cast(img: Tensor) -> Tensor:
    """Grey-world cast per image: ``|mean R - mean G| + |mean B - mean G|``, (N,)."""
    mean = img.mean(dim=(2, 3))
    return (mean[:, 0] - mean[:, 1]).abs() + (mean[:, 2] - mean[:, 1]).abs()


@MODELS.register_module()
class RealPhotoPriorLoss(nn.Module):
    """Tone, black level and colour of a restored real photo, judged against its input.

    With ``x`` the degraded input, ``y`` the output (RGB in [0, 1]), ``Y`` luma
    (BT.601), ``m`` a picture's mean, ``P`` the mean over ``block``-px blocks:

    - brightness: ``relu(ρ·m(Y(x)) - m(Y(y))) + mean relu(ρ_b·P(Y(x)) - P(Y(y)))``.
      Removing haze takes away airlight, so an output may be darker than its input,
      but not much: one-sided, so it never asks for brighter; per block as well, so a
      sky cannot go dark while the rest keeps the mean up;
    - black level: ``mean relu(τ - Y(y))·[Y(x) >= τ] / τ``: pixels that were not black
      in the input must not be crushed below ``τ`` (the dark channel of a dehazed
      picture tends to 0 only where the scene is dark, never wholesale);
    - colour: ``relu(c(y) - c(x) - margin)`` with ``c`` the grey-world cast
      ``|m(R) - m(G)| + |m(B) - m(G)|``: the output may be greyer than its input, never
      more cast.

    Each term has its weight; a weight of 0 turns it off.

    Args:
        brightness_weight (float): Weight of the brightness term. Defaults to 1.0.
        brightness_ratio (float): ``ρ``, the share of the input's mean luma the output
            keeps. Defaults to 0.9.
        block_ratio (float): ``ρ_b``, the same per block. Defaults to 0.75.
        block (int): Block side in pixels. Defaults to 16.
        black_weight (float): Weight of the black-level term. Defaults to 1.0.
        black_level (float): ``τ``. Defaults to 0.08.
        colour_weight (float): Weight of the colour term. Defaults to 1.0.
        colour_margin (float): Cast the output may add. Defaults to 0.0.
    """

    def __init__(self,
                 brightness_weight: float = 1.0,
                 brightness_ratio: float = 0.9,
                 block_ratio: float = 0.75,
                 block: int = 16,
                 black_weight: float = 1.0,
                 black_level: float = 0.08,
                 colour_weight: float = 1.0,
                 colour_margin: float = 0.0) -> None:
        super().__init__()
        for name, value in (('brightness_weight', brightness_weight),
                            ('black_weight', black_weight), ('colour_weight', colour_weight),
                            ('colour_margin', colour_margin)):
            if value < 0:
                raise ValueError(f'RealPhotoPriorLoss: {name} must be >= 0, got {value}')
        if not 0 < brightness_ratio <= 1 or not 0 < block_ratio <= 1:
            raise ValueError('RealPhotoPriorLoss: brightness_ratio and block_ratio must be in '
                             f'(0, 1], got {brightness_ratio} and {block_ratio}')
        if block < 1 or not 0 < black_level < 1:
            raise ValueError(f'RealPhotoPriorLoss: need block >= 1 and 0 < black_level < 1, '
                             f'got {block} and {black_level}')
        self.brightness_weight = brightness_weight
        self.brightness_ratio = brightness_ratio
        self.block_ratio = block_ratio
        self.block = block
        self.black_weight = black_weight
        self.black_level = black_level
        self.colour_weight = colour_weight
        self.colour_margin = colour_margin

    def forward(self, restored: Tensor, degraded: Tensor) -> Dict[str, Tensor]:
        """The weighted terms.

        Args:
            restored (Tensor): ``y``, (N, 3, H, W) in [0, 1].
            degraded (Tensor): ``x``, the same shape.

        Returns:
            dict[str, Tensor]: ``prior.loss_brightness``, ``prior.loss_black``,
            ``prior.loss_colour``
            (those with a weight above 0).
        """
        if restored.shape != degraded.shape or restored.dim() != 4 or restored.shape[1] != 3:
            raise ValueError(f'RealPhotoPriorLoss: expected two (N, 3, H, W) tensors of one '
                             f'shape, got {tuple(restored.shape)} and {tuple(degraded.shape)}')
        losses = {}
        y_out, y_in = _luma(restored), _luma(degraded.detach())
        if self.brightness_weight > 0:
            whole = F.relu(self.brightness_ratio * y_in.mean(dim=(1, 2, 3)) -
                           y_out.mean(dim=(1, 2, 3))).mean()
            k = min(self.block, *y_out.shape[2:])
            blocks = F.relu(self.block_ratio * F.avg_pool2d(y_in, k, ceil_mode=True) -
                            F.avg_pool2d(y_out, k, ceil_mode=True)).mean()
            losses['prior.loss_brightness'] = self.brightness_weight * (whole + blocks)
        if self.black_weight > 0:
            lit = (y_in >= self.black_level).to(y_out.dtype)
            crushed = F.relu(self.black_level - y_out) * lit / self.black_level
            losses['prior.loss_black'] = self.black_weight * crushed.mean()
        if self.colour_weight > 0:
            excess = F.relu(_cast(restored) - _cast(degraded.detach()) - self.colour_margin)
            losses['prior.loss_colour'] = self.colour_weight * excess.mean()
        return losses


def highpass(img: Tensor, sigma: float) -> Tensor:
    """``img`` minus its Gaussian low-pass of standard deviation ``sigma`` px (reflected
    borders): the detail a restorer adds or removes, without the tone."""
    radius = max(1, int(round(3 * sigma)))
    radius = min(radius, img.shape[-1] - 1, img.shape[-2] - 1)
    x = torch.arange(-radius, radius + 1, dtype=img.dtype, device=img.device)
    kernel = torch.exp(-x**2 / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    c = img.shape[1]
    low = F.pad(img, (radius, radius, radius, radius), mode='reflect')
    low = F.conv2d(low, kernel.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    low = F.conv2d(low, kernel.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)
    return img - low
