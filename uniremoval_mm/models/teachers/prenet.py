"""PReNet (Ren et al., CVPR'19): progressive recurrent deraining.

The same small network runs ``stages`` times; each stage sees the rainy input and the
previous estimate, carries a ConvLSTM state across stages, and predicts a residual on
top of the input. Written by us from the paper; module names follow the authors' code so
their official weights load unchanged.
"""
from typing import Dict, Tuple, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn


def _conv_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU())


def _res_branch(channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
        nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU())


def _gate(channels: int, act: nn.Module) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(2 * channels, channels, 3, padding=1), act)


@MODELS.register_module()
class PReNet(nn.Module):
    """PReNet deraining network (168 963 parameters at the defaults).

    Args:
        stages (int): Recurrent stages (the paper's T). Defaults to 6.
        channels (int): Hidden channels. Defaults to 32.
        res_blocks (int): Residual blocks per stage. Defaults to 5.

    Feature taps (``return_features=True``): ``h`` (the ConvLSTM state after the last
    stage) and ``res`` (the last residual block's output), ``channels`` each, full size.
    """

    def __init__(self, stages: int = 6, channels: int = 32, res_blocks: int = 5) -> None:
        super().__init__()
        if stages < 1 or channels < 1 or res_blocks < 1:
            raise ValueError(f'stages, channels and res_blocks must be >= 1, got '
                             f'{stages}, {channels}, {res_blocks}')
        self.stages = stages
        self.channels = channels
        self.conv0 = _conv_relu(6, channels)
        for i in range(1, res_blocks + 1):  # res_conv1..N, as in the official weights
            self.add_module(f'res_conv{i}', _res_branch(channels))
        self.res_blocks = res_blocks
        self.conv_i = _gate(channels, nn.Sigmoid())
        self.conv_f = _gate(channels, nn.Sigmoid())
        self.conv_g = _gate(channels, nn.Tanh())
        self.conv_o = _gate(channels, nn.Sigmoid())
        self.conv = nn.Sequential(nn.Conv2d(channels, 3, 3, padding=1))

    @property
    def feature_channels(self) -> Dict[str, int]:
        """Channels of every feature tap, by name."""
        return {'h': self.channels, 'res': self.channels}

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Derain ``x`` in ``stages`` passes: each sees ``x`` and the previous estimate
        (``x`` itself at first) and adds its predicted residual to ``x``.

        Args:
            x (Tensor): Rainy RGB images in [0, 1], (N, 3, H, W).
            return_features (bool): Also return the last stage's taps ``h`` and ``res``.
                Defaults to False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: The last stage's estimate, not
            clamped at either end; with ``return_features``, also ``{'h': ..., 'res':
            ...}``.
        """
        n, _, h, w = x.shape
        hidden = x.new_zeros(n, self.channels, h, w)
        cell = x.new_zeros(n, self.channels, h, w)
        estimate = x
        for _ in range(self.stages):
            y = torch.cat([self.conv0(torch.cat([x, estimate], 1)), hidden], 1)
            cell = self.conv_f(y) * cell + self.conv_i(y) * self.conv_g(y)
            hidden = self.conv_o(y) * torch.tanh(cell)
            y = hidden
            for i in range(1, self.res_blocks + 1):
                y = F.relu(getattr(self, f'res_conv{i}')(y) + y)
            estimate = self.conv(y) + x
        return (estimate, {'h': hidden, 'res': y}) if return_features else estimate
