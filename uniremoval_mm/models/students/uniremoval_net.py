"""UniRemovalNet: the unified student, a small U-Net of NAFNet-style blocks.

The idea follows NAFNet (Chen et al., ECCV'22, MIT licence): blocks without
non-linear activations, a ``SimpleGate`` (split channels, multiply), simplified channel
attention, and zero-initialised residual scales so that every block starts as the
identity. The code is ours. Sizes are factories (:func:`uniremoval_net_t` etc.); the
cost of each size is measured in ``docs/models.md`` and checked by a test.
"""
from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

__all__ = ['UniRemovalNet', 'NAFBlock', 'SimpleGate', 'LayerNorm2d']

#: Floats per feature tile in the inference path (:meth:`NAFBlock.forward_nhwc`): a tile
#: and its few temporaries stay in a CPU core's L2 cache (256 KiB of fp32 per tensor).
TILE_FLOATS = 2**16


class LayerNorm2d(nn.Module):
    """Layer norm over the channels of an NCHW tensor, at every pixel.

    Args:
        channels (int): Number of channels.
        eps (float): Added to the variance. Defaults to 1e-6.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class SimpleGate(nn.Module):
    """Split the channels in two halves and multiply them: a gate with no activation."""

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class NAFBlock(nn.Module):
    """A NAFNet-style block: gated depth-wise conv + channel attention, then a gated FFN.

    Both branches are residual with zero-initialised scales, so a new block is the
    identity and training starts from a plain skip path.

    Args:
        channels (int): Input and output channels.
        dw_expand (int): Channel expansion before the depth-wise conv. Defaults to 2.
        ffn_expand (int): Channel expansion of the feed-forward branch. Defaults to 2.
    """

    def __init__(self, channels: int, dw_expand: int = 2, ffn_expand: int = 2) -> None:
        super().__init__()
        dw = channels * dw_expand
        ffn = channels * ffn_expand
        self.norm1 = LayerNorm2d(channels)
        self.expand = nn.Conv2d(channels, dw, 1)
        self.dwconv = nn.Conv2d(dw, dw, 3, padding=1, groups=dw)
        self.gate = SimpleGate()
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dw // 2, dw // 2, 1))
        self.project = nn.Conv2d(dw // 2, channels, 1)
        self.norm2 = LayerNorm2d(channels)
        self.ffn_in = nn.Conv2d(channels, ffn, 1)
        self.ffn_out = nn.Conv2d(ffn // 2, channels, 1)
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.gate(self.dwconv(self.expand(self.norm1(x))))
        y = self.project(y * self.attention(y))
        x = x + self.beta * y
        y = self.ffn_out(self.gate(self.ffn_in(self.norm2(x))))
        return x + self.gamma * y

    def forward_nhwc(self, x: Tensor) -> Tensor:
        """The same block on a channels-last (N, H, W, C) tensor, for inference.

        The same weights, regrouped for speed on CPU, where this small block is limited
        by memory traffic rather than arithmetic: each norm is one fused ``layer_norm``
        over the (contiguous) channels, each 1x1 conv is one matrix product,
        ``beta``/``gamma`` are folded into the projections' weights and the residual
        additions into the products (``addmm``); at batch 1 the channel attention is
        folded into the projection's weights as well. Everything before the channel
        attention's global mean runs in bands of rows, everything after it in tiles of
        pixels, of about :data:`TILE_FLOATS` floats, so that intermediate results stay
        in the cache instead of going through memory.

        Args:
            x (Tensor): (N, H, W, C), contiguous.

        Returns:
            Tensor: (N, H, W, C), contiguous.
        """
        n, h, w, c = x.shape
        y = x.new_empty(n, h, w, self.project.in_channels)
        # Norm, expand, depth-wise conv and gate in bands of rows that stay in the cache;
        # each band computes one extra row on either side for the 3x3 conv.
        rows = max(1, 2 * TILE_FLOATS // (c * w))
        for r0 in range(0, h, rows):
            r1 = min(r0 + rows, h)
            lo, hi = max(r0 - 1, 0), min(r1 + 1, h)
            e = _linear(_layer_norm(x[:, lo:hi], self.norm1), self.expand)
            e = self.dwconv(e.permute(0, 3, 1, 2))[:, :, r0 - lo:r1 - lo]  # channels_last
            a, b = e.permute(0, 2, 3, 1).chunk(2, dim=-1)
            torch.mul(a, b, out=y[:, r0:r1])  # SimpleGate
        att = _linear(y.mean((1, 2)), self.attention[1])  # (N, C'): channel attention
        weight = self.project.weight.flatten(1) * self.beta.view(-1, 1)
        if n == 1:
            weight = weight * att  # y * att, then project == project with scaled weights
        else:
            y = y * att.view(n, 1, 1, -1)
        bias = self.project.bias * self.beta.flatten()
        ffn_weight = self.ffn_out.weight.flatten(1) * self.gamma.view(-1, 1)
        ffn_bias = self.ffn_out.bias * self.gamma.flatten()
        x, y = x.reshape(-1, c), y.reshape(-1, y.shape[-1])
        out = torch.empty_like(x)
        # The rest is per pixel: run it in tiles that stay in the CPU's cache.
        tile = max(1, TILE_FLOATS // c)
        for i in range(0, x.shape[0], tile):
            t = torch.addmm(bias, y[i:i + tile], weight.t()).add_(x[i:i + tile])
            f = _linear(_layer_norm(t, self.norm2), self.ffn_in)
            a, b = f.chunk(2, dim=-1)
            torch.addmm(t.add_(ffn_bias), a * b, ffn_weight.t(), out=out[i:i + tile])
        return out.view(n, h, w, c)


def _layer_norm(x: Tensor, norm: LayerNorm2d) -> Tensor:
    """``norm`` applied to a (..., C) tensor: one fused kernel over the last dim."""
    return F.layer_norm(x, x.shape[-1:], norm.weight.flatten(), norm.bias.flatten(), norm.eps)


def _linear(x: Tensor, conv: nn.Conv2d) -> Tensor:
    """A 1x1 ``conv`` applied to a (..., C) tensor: one matrix product."""
    return F.linear(x, conv.weight.flatten(1), conv.bias)


def _blocks(channels: int, num: int) -> nn.Sequential:
    return nn.Sequential(*[NAFBlock(channels) for _ in range(num)])


@MODELS.register_module()
class UniRemovalNet(nn.Module):
    """The unified restoration student: a U-Net of NAFNet-style blocks.

    ``out = x + tail(decoder(middle(encoder(head(x)))))``: the network predicts a
    residual on top of its input (global residual). Each encoder level halves the
    resolution and doubles the width; each decoder level undoes it and adds the skip.

    Feature taps (for distillation), from ``forward(x, return_features=True)``:
    ``enc{i}`` (encoder level ``i`` output, before downsampling, width ``width * 2**i``),
    ``middle`` (bottleneck), ``dec{i}`` (decoder level ``i``, same width as ``enc{i}``).

    Args:
        in_channels (int): Input (and output) channels. Defaults to 3.
        width (int): Channels at full resolution. Defaults to 16.
        enc_blocks (Sequence[int]): Blocks per encoder level; its length is the number of
            downsamplings. Defaults to (1, 1, 2).
        middle_blocks (int): Blocks at the bottleneck. Defaults to 2.
        dec_blocks (Sequence[int], optional): Blocks per decoder level, from the deepest
            level up; same length as ``enc_blocks``. Defaults to None (one per level).
        pad_mode (str): ``F.pad`` mode used to reach a multiple of ``2**levels``; the
            output is cropped back. Defaults to ``'replicate'`` (valid for any size).
        zero_init_tail (bool): Start the tail conv at zero, so a new network is the
            identity (output = input) instead of input plus noise; training starts from
            the input's quality. Defaults to True.
    """

    def __init__(self,
                 in_channels: int = 3,
                 width: int = 16,
                 enc_blocks: Sequence[int] = (1, 1, 2),
                 middle_blocks: int = 2,
                 dec_blocks: Union[Sequence[int], None] = None,
                 pad_mode: str = 'replicate',
                 zero_init_tail: bool = True) -> None:
        super().__init__()
        enc_blocks = tuple(enc_blocks)
        dec_blocks = tuple(dec_blocks) if dec_blocks is not None else (1, ) * len(enc_blocks)
        if width < 1 or in_channels < 1:
            raise ValueError(f'width and in_channels must be >= 1, got {width}, {in_channels}')
        if len(dec_blocks) != len(enc_blocks):
            raise ValueError(f'dec_blocks {dec_blocks} and enc_blocks {enc_blocks} must have '
                             'the same length (one decoder level per encoder level)')
        if min(enc_blocks + dec_blocks + (middle_blocks, ), default=0) < 0:
            raise ValueError('block counts must be >= 0')
        if pad_mode not in ('replicate', 'reflect', 'constant', 'circular'):
            raise ValueError(f'unknown pad_mode {pad_mode!r}')
        self.in_channels = in_channels
        self.width = width
        self.pad_mode = pad_mode
        self.multiple = 2**len(enc_blocks)

        self.head = nn.Conv2d(in_channels, width, 3, padding=1)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        channels = width
        for num in enc_blocks:
            self.encoders.append(_blocks(channels, num))
            self.downs.append(nn.Conv2d(channels, channels * 2, 2, stride=2))
            channels *= 2
        self.middle = _blocks(channels, middle_blocks)
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for num in dec_blocks:
            self.ups.append(
                nn.Sequential(nn.Conv2d(channels, channels * 2, 1), nn.PixelShuffle(2)))
            channels //= 2
            self.decoders.append(_blocks(channels, num))
        self.tail = nn.Conv2d(width, in_channels, 3, padding=1)
        if zero_init_tail:
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    @property
    def feature_channels(self) -> Dict[str, int]:
        """Channels of every feature tap, by name."""
        levels = len(self.encoders)
        taps = {f'enc{i}': self.width * 2**i for i in range(levels)}
        taps['middle'] = self.width * 2**levels
        taps.update({f'dec{i}': self.width * 2**i for i in range(levels)})
        return taps

    def _pad(self, x: Tensor) -> Tuple[Tensor, int, int]:
        h, w = x.shape[-2:]
        ph, pw = -h % self.multiple, -w % self.multiple
        if ph or pw or torch.jit.is_tracing():  # a traced graph must pad for any size
            mode = self.pad_mode
            if mode == 'reflect' and (ph >= h or pw >= w):
                mode = 'replicate'  # reflect cannot pad by more than the size
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        return x, h, w

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Restore ``x``.

        Args:
            x (Tensor): Degraded images, (N, C, H, W), any H and W, values in [0, 1].
            return_features (bool): Also return the feature taps (cropped to the
                input's footprint at each scale). Defaults to False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: The restored images, same shape
            as ``x``; with ``return_features``, also the taps by name.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'expected (N, {self.in_channels}, H, W), got {tuple(x.shape)}')
        if not (return_features or self.training or torch.is_grad_enabled()
                or torch.jit.is_tracing() or torch.is_autocast_enabled(x.device.type)):
            return self.forward_fast(x)  # (its fused products take no autocast)
        padded, h, w = self._pad(x)
        feats: Dict[str, Tensor] = {}
        y = self.head(padded)
        skips = []
        for i, (encoder, down) in enumerate(zip(self.encoders, self.downs)):
            y = encoder(y)
            skips.append(y)
            feats[f'enc{i}'] = y
            y = down(y)
        y = self.middle(y)
        feats['middle'] = y
        for j, (up, decoder) in enumerate(zip(self.ups, self.decoders)):
            level = len(skips) - 1 - j  # decoders run from the deepest level up
            y = decoder(up(y) + skips[level])
            feats[f'dec{level}'] = y
        out = padded + self.tail(y)
        out = out[..., :h, :w]
        if not return_features:
            return out
        return out, {k: _crop_like(v, h, w, padded.shape[-2]) for k, v in feats.items()}

    def forward_fast(self, x: Tensor) -> Tensor:
        """Inference: the same output as :meth:`forward`, faster on CPU.

        ``forward`` calls it by itself in eval mode without gradients (so inside
        ``torch.no_grad()`` / ``torch.inference_mode()``, e.g. in
        ``UniRemovalPreprocessor``) unless feature taps are asked for or autocast is on
        (mixed-precision training runs a frozen copy: its ``addmm(out=...)`` products
        would mix float32 weights with autocast's half-precision activations). The features stay
        channels-last (N, H, W, C) all the way: norms, 1x1 convs, gates and the
        pixel shuffle need no layout change, and the 3x3 / 2x2 convs run as
        channels_last convs (see :meth:`NAFBlock.forward_nhwc`). The weights are used
        as they are: nothing is converted or cached, ``state_dict`` is unchanged.

        Args:
            x (Tensor): (N, C, H, W), any H and W.

        Returns:
            Tensor: The restored images, (N, C, H, W), channels_last memory format.
        """
        padded, h, w = self._pad(x)
        padded = padded.contiguous(memory_format=torch.channels_last)
        y = self.head(padded).permute(0, 2, 3, 1)  # (N, H, W, C), contiguous
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            for block in encoder:
                y = block.forward_nhwc(y)
            skips.append(y)
            y = down(y.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        for block in self.middle:
            y = block.forward_nhwc(y)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            y = _pixel_shuffle_nhwc(_linear(y, up[0]), up[1].upscale_factor) + skip
            for block in decoder:
                y = block.forward_nhwc(y)
        out = self.tail(y.permute(0, 3, 1, 2)) + padded
        return out[..., :h, :w]


def _pixel_shuffle_nhwc(x: Tensor, r: int) -> Tensor:
    """``nn.PixelShuffle(r)`` on (N, H, W, C * r * r), giving (N, H * r, W * r, C)."""
    n, h, w, c = x.shape
    c //= r * r
    x = x.view(n, h, w, c, r, r).permute(0, 1, 4, 2, 5, 3)  # N, H, r, W, r, C
    return x.reshape(n, h * r, w * r, c)


def _crop_like(feat: Tensor, h: int, w: int, padded_h: int) -> Tensor:
    scale = padded_h // feat.shape[-2]
    return feat[..., :max(1, -(-h // scale)), :max(1, -(-w // scale))]


def _factory(width: int, enc_blocks, middle_blocks: int, dec_blocks) -> dict:
    return dict(width=width, enc_blocks=enc_blocks, middle_blocks=middle_blocks,
                dec_blocks=dec_blocks)


#: The named sizes, chosen to fit the cost budgets at 640x640 (mmengine's counter):
#: T <= 2 GMACs, S <= 9 GMACs (a tenth of Faster R-CNN R50-FPN), B <= 30 GMACs.
#: Measured cost: docs/models.md; checked by tests/test_models/test_uniremoval_net.py.
SIZES = {
    'T': _factory(8, (1, 1, 1), 1, (1, 1, 1)),
    'S': _factory(14, (1, 1, 2, 2), 2, (1, 1, 1, 1)),
    'B': _factory(24, (1, 1, 2, 4), 4, (1, 1, 1, 1)),
}


def build_uniremoval_net(size: str = 'S', **kwargs) -> UniRemovalNet:
    """Build a named size of :class:`UniRemovalNet`.

    Args:
        size (str): ``'T'``, ``'S'`` or ``'B'``. Defaults to ``'S'``.
        **kwargs: Overrides of the size's arguments (e.g. ``in_channels``).

    Returns:
        UniRemovalNet: The network.
    """
    if size not in SIZES:
        raise ValueError(f'unknown UniRemovalNet size {size!r}; choose from {sorted(SIZES)}')
    return UniRemovalNet(**{**SIZES[size], **kwargs})


@MODELS.register_module()
def UniRemovalNetT(**kwargs) -> UniRemovalNet:  # noqa: N802  (a type name in configs)
    """UniRemovalNet size T (tiny): see :data:`SIZES`; ``kwargs`` override it."""
    return build_uniremoval_net('T', **kwargs)


@MODELS.register_module()
def UniRemovalNetS(**kwargs) -> UniRemovalNet:  # noqa: N802
    """UniRemovalNet size S (small, the default student): see :data:`SIZES`."""
    return build_uniremoval_net('S', **kwargs)


@MODELS.register_module()
def UniRemovalNetB(**kwargs) -> UniRemovalNet:  # noqa: N802
    """UniRemovalNet size B (base): see :data:`SIZES`."""
    return build_uniremoval_net('B', **kwargs)
