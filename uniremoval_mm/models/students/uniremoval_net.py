"""UniRemovalNet: the unified student, a small U-Net of NAFNet-style blocks.

The idea follows NAFNet (Chen et al., ECCV'22, MIT licence): blocks without
non-linear activations, a ``SimpleGate`` (split channels, multiply), simplified channel
attention, and zero-initialised residual scales so that every block starts as the
identity. The code is ours. Sizes are factories (:func:`uniremoval_net_t` etc.); the
cost of each size is measured in ``docs/models.md`` and checked by a test.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

__all__ = ['UniRemovalNet', 'NAFBlock', 'SimpleGate', 'LayerNorm2d']

#: Floats per feature tile in the inference path (:meth:`NAFBlock.forward_nhwc`): a tile
#: and its few temporaries stay in the CPU's caches (512 KiB of fp32 per tensor). Twice
#: as many with bfloat16 products, whose calls cost more each (``docs/speed.md``).
TILE_FLOATS = 2**17


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

    def forward_nhwc(self, x: Tensor, out: Optional[Tensor] = None,
                     work: Optional[Tensor] = None,
                     dtype: Optional[torch.dtype] = None) -> Tensor:
        """The same block on a channels-last (N, H, W, C) tensor, for inference.

        The same weights, regrouped for speed on CPU, where this small block is limited
        by memory traffic rather than arithmetic: each 1x1 conv is one matrix product,
        and each norm is folded into the product after it (its affine into the weights;
        the per-pixel mean and variance come from two thin matrix products, which is
        much faster than ``layer_norm`` over 14-56 channels); ``beta``/``gamma`` are
        folded into the projections' weights and the residual additions into the
        products (``addmm_``); at batch 1 the channel attention is folded into the
        projection's weights as well. Everything before the channel attention's global
        mean runs in bands of rows, everything after it in tiles of pixels, of about
        :data:`TILE_FLOATS` floats, so that intermediate results stay in the cache
        instead of going through memory.

        ``x`` may carry zero channels after the block's own (C >= ``channels``, see
        :func:`fast_width`): the weights are zero-padded to match, the padding channels
        stay zero, and every per-pixel operation then works on whole SIMD vectors.

        Args:
            x (Tensor): (N, H, W, C), contiguous, float32; channels ``channels:`` zero.
            out (Tensor, optional): Where to write the result, same shape; may be ``x``
                itself (in place). Defaults to None (a new tensor).
            work (Tensor, optional): Scratch space of (N, H, W, C') in ``dtype``, with
                C' = :meth:`gated_width` ``(C)``. Defaults to None (allocated).
            dtype (torch.dtype, optional): Dtype of the matrix products and the
                depth-wise conv, e.g. ``torch.bfloat16`` (faster on CPUs with bf16
                instructions, less exact; the residual stream, the norms' statistics
                and the attention's mean stay in float32). Defaults to None (``x``'s).

        Returns:
            Tensor: (N, H, W, C), contiguous (``out`` if given).
        """
        n, h, w, cp = x.shape
        c, cw = self.project.out_channels, self.project.in_channels
        cwp = self.gated_width(cp)
        fw = self.ffn_out.in_channels
        fwp = fw if cp == c else fast_width(fw, always=True)
        dtype = dtype or x.dtype
        out = torch.empty_like(x) if out is None else out
        y = x.new_empty((n, h, w, cwp), dtype=dtype) if work is None else work
        ones = x.new_zeros(cp, 1)  # per-pixel means as matrix products
        ones[:c] = 1.0 / c
        w1, b1 = _fold_norm(self.norm1, self.expand)
        w1, b1 = _pad(_pad(w1, 0, cw, cwp, groups=2), 1, c, cp), _pad(b1, 0, cw, cwp, groups=2)
        dw_weight = _pad(self.dwconv.weight, 0, cw, cwp, groups=2).to(dtype)
        dw_bias = _pad(self.dwconv.bias, 0, cw, cwp, groups=2).to(dtype)
        w1, b1 = w1.to(dtype), b1.to(dtype)
        total = x.new_zeros(n, cwp)  # sum of y over the pixels, for the attention's mean
        # Norm, expand, depth-wise conv and gate in bands of rows that stay in the cache;
        # each band computes one extra row on either side for the 3x3 conv.
        rows = max(1, 2 * _tile_floats(x, dtype) // (cp * w))
        for i in range(n):
            for r0 in range(0, h, rows):
                r1 = min(r0 + rows, h)
                lo, hi = max(r0 - 1, 0), min(r1 + 1, h)
                e = _norm_linear(x[i, lo:hi].view(-1, cp), ones, self.norm1.eps, w1, b1)
                e = F.conv2d(e.view(1, hi - lo, w, -1).permute(0, 3, 1, 2), dw_weight,
                             dw_bias, padding=1, groups=dw_weight.shape[0])  # channels_last
                a, b = e[0, :, r0 - lo:r1 - lo].permute(1, 2, 0).chunk(2, dim=-1)
                band = torch.mul(a, b, out=y[i, r0:r1])  # SimpleGate
                total[i] += band.sum((0, 1), dtype=total.dtype)
        att = _linear(total[:, :cw] / (h * w), self.attention[1])  # (N, C'): attention
        weight = self.project.weight.flatten(1) * self.beta.view(-1, 1)
        if n == 1:
            weight = weight * att  # y * att, then project == project with scaled weights
        else:
            y.mul_(_pad(att, 1, cw, cwp).view(n, 1, 1, -1).to(dtype))
        weight = _pad(_pad(weight, 0, c, cp), 1, cw, cwp).t().to(dtype)
        bias = _pad(self.project.bias * self.beta.flatten(), 0, c, cp)
        w2, b2 = _fold_norm(self.norm2, self.ffn_in)
        w2, b2 = _pad(_pad(w2, 0, fw, fwp, groups=2), 1, c, cp), _pad(b2, 0, fw, fwp, groups=2)
        w2, b2 = w2.to(dtype), b2.to(dtype)
        ffn_weight = self.ffn_out.weight.flatten(1) * self.gamma.view(-1, 1)
        ffn_weight = _pad(_pad(ffn_weight, 0, c, cp), 1, fw, fwp).t().to(dtype)
        ffn_bias = _pad(self.ffn_out.bias * self.gamma.flatten(), 0, c, cp)
        xs, ys, outs = x.view(-1, cp), y.view(-1, cwp), out.view(-1, cp)
        # The rest is per pixel: run it in tiles that stay in the CPU's cache.
        tile = max(1, _tile_floats(x, dtype) // cp)
        for i in range(0, xs.shape[0], tile):
            t = torch.add(xs[i:i + tile], bias, out=outs[i:i + tile])
            _addmm_(t, ys[i:i + tile], weight)  # x + beta * project(y * att)
            a, b = _norm_linear(t, ones, self.norm2.eps, w2, b2).chunk(2, dim=-1)
            _addmm_(t.add_(ffn_bias), a * b, ffn_weight)  # + gamma * ffn_out(gate)
        return out

    def gated_width(self, width: int) -> int:
        """Channels of :meth:`forward_nhwc`'s scratch tensor for an input of ``width``."""
        cw = self.project.in_channels
        return cw if width == self.project.out_channels else fast_width(cw, always=True)


def fast_width(channels: int, always: bool = False) -> int:
    """Channels of the inference path's features at a level of ``channels``.

    14 channels are padded with zeros to 16: per-pixel operations over the channels then
    run on whole 16-float SIMD vectors, and a level-0 block of UniRemovalNet-S runs about
    19% faster in spite of the 14% more data (``docs/speed.md``); 28 -> 32 and 56 -> 64
    measured no faster, so only widths just under 16 are padded.

    Args:
        channels (int): The network's channels.
        always (bool): Round up to a multiple of 16 whatever the width (for the inner
            widths of a block whose input is padded). Defaults to False.

    Returns:
        int: ``channels`` or the next multiple of 16.
    """
    padded = -(-channels // 16) * 16
    if always or (channels < 16 and padded * 7 <= channels * 8):
        return padded
    return channels


def _pad(t: Tensor, dim: int, size: int, padded: int, groups: int = 1) -> Tensor:
    """Zero-pad ``t`` along ``dim`` from ``groups`` groups of ``size`` to ``padded``."""
    if size == padded:
        return t
    shape = list(t.shape)
    grouped = t.reshape(shape[:dim] + [groups, size] + shape[dim + 1:])
    out = grouped.new_zeros(shape[:dim] + [groups, padded] + shape[dim + 1:])
    out.narrow(dim + 1, 0, size).copy_(grouped)
    return out.view(shape[:dim] + [groups * padded] + shape[dim + 1:])


def _tile_floats(x: Tensor, dtype: torch.dtype) -> int:
    """Floats per band / tile: :data:`TILE_FLOATS` on CPU (twice that with products in
    a 16-bit ``dtype``), everything at once elsewhere (a GPU wants few large kernels,
    not many cache-sized ones)."""
    if x.device.type != 'cpu':
        return max(TILE_FLOATS, x.numel())
    return TILE_FLOATS * 2 if dtype.itemsize < 4 else TILE_FLOATS


def _fold_norm(norm: LayerNorm2d, conv: nn.Conv2d) -> Tuple[Tensor, Tensor]:
    """``conv``'s (weight, bias) as a linear layer, with ``norm``'s affine folded in."""
    weight = conv.weight.flatten(1)
    bias = torch.addmv(conv.bias, weight, norm.bias.flatten())
    return weight * norm.weight.flatten(), bias


def _norm_linear(x: Tensor, ones: Tensor, eps: float, weight: Tensor, bias: Tensor) -> Tensor:
    """``linear(layer_norm(x))`` on a contiguous (M, C) tile, the affine in ``weight``/``bias``.

    ``ones`` is (C, 1) of 1 / C (0 for padding channels): the per-pixel mean and
    variance are thin matrix products. The normalised tile is cast to ``weight``'s dtype
    for the product (whose padding columns are zero).
    """
    centred = x - x @ ones
    rstd = torch.square(centred) @ ones
    rstd.add_(eps).rsqrt_()
    if weight.dtype == x.dtype:
        normed = centred.mul_(rstd)
    else:
        normed = torch.mul(centred, rstd, out=torch.empty_like(centred, dtype=weight.dtype))
    return torch.addmm(bias, normed, weight.t())


def _addmm_(out: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """``out += a @ b``, in place; ``a @ b`` in ``a``'s dtype (e.g. bfloat16)."""
    if a.dtype == out.dtype:
        return out.addmm_(a, b)
    return out.add_(torch.mm(a, b))


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
        icnr_init (bool): Initialise each upsampling conv with ICNR (Aitken et al.,
            2017): its four sub-pixel kernels start equal, so a new pixel shuffle is a
            nearest-neighbour upsampling instead of a 2-px checkerboard that training
            has to undo (the grid seen in young students, docs/method.md). Only the
            initial values change. Defaults to True.
    """

    def __init__(self,
                 in_channels: int = 3,
                 width: int = 16,
                 enc_blocks: Sequence[int] = (1, 1, 2),
                 middle_blocks: int = 2,
                 dec_blocks: Union[Sequence[int], None] = None,
                 pad_mode: str = 'replicate',
                 zero_init_tail: bool = True,
                 icnr_init: bool = True) -> None:
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
        if icnr_init:
            for up in self.ups:
                _icnr_(up[0], scale=2)
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

    def forward_fast(self,
                     x: Tensor,
                     dtype: Optional[torch.dtype] = None,
                     *,
                     scale: float = 1.0,
                     reverse_channels: bool = False,
                     clamp: bool = False) -> Tensor:
        """Inference: the same output as :meth:`forward`, faster on CPU.

        ``forward`` calls it by itself in eval mode without gradients (so inside
        ``torch.no_grad()`` / ``torch.inference_mode()``, e.g. in
        ``UniRemovalPreprocessor``) unless feature taps are asked for or autocast is on
        (mixed-precision training runs a frozen copy: its ``addmm(out=...)`` products
        would mix float32 weights with autocast's half-precision activations). The features stay
        channels-last (N, H, W, C) all the way: norms, 1x1 convs, gates and the
        pixel shuffle need no layout change, and the 3x3 / 2x2 convs run as
        channels_last convs (see :meth:`NAFBlock.forward_nhwc`). The first level's
        features may carry zero channels up to a multiple of 16 (:func:`fast_width`).
        Blocks write their output over their input, and each pixel shuffle adds into
        its skip connection, so few full-size tensors are allocated. The weights are
        read on every call (folded, zero-padded or cast there, nothing cached):
        ``state_dict`` is unchanged and trained checkpoints load. Not differentiable
        (in-place updates): use it without gradients.

        Args:
            x (Tensor): (N, C, H, W), any H and W.
            dtype (torch.dtype, optional): Dtype of the blocks' matrix products and
                depth-wise convs and of the up-sampling products: ``torch.bfloat16``
                is faster on CPUs with bf16 instructions and less exact (see
                ``docs/speed.md``). Defaults to None (float32: ``x``'s dtype).
            scale (float): ``x`` is in ``[0, scale]`` instead of ``[0, 1]`` (e.g. 255),
                and so is the output: the scaling is folded into the head's and the
                tail's weights. Defaults to 1.
            reverse_channels (bool): ``x`` has its channels in the reverse order of the
                network's (BGR for an RGB network), and so has the output: folded into
                the head's and the tail's weights. Defaults to False.
            clamp (bool): Clamp the output to ``[0, scale]`` (in place). Defaults to
                False.

        Returns:
            Tensor: The restored images, (N, C, H, W), channels_last memory format.
        """
        padded, h, w = self._pad(x)
        if padded.stride() != _channels_last_strides(padded):  # e.g. a permuted image
            padded = padded.clone(memory_format=torch.channels_last)
        head, tail = self.head, self.tail
        head_weight, tail_weight, tail_bias = head.weight, tail.weight, tail.bias
        if reverse_channels:
            head_weight, tail_weight, tail_bias = (head_weight.flip(1), tail_weight.flip(0),
                                                   tail_bias.flip(0))
        if scale != 1:
            head_weight, tail_weight, tail_bias = (head_weight / scale, tail_weight * scale,
                                                   tail_bias * scale)
        c = self.width
        cp = fast_width(c)  # zero channels added to the features of the first level
        head_weight, head_bias = _pad(head_weight, 0, c, cp), _pad(head.bias, 0, c, cp)
        tail_weight = _pad(tail_weight, 1, c, cp)
        y = F.conv2d(padded, head_weight, head_bias, head.stride, head.padding)
        y = y.permute(0, 2, 3, 1).contiguous()  # (N, H, W, C); a copy only if the conv
        # did not keep channels_last
        work: Dict[tuple, Tensor] = {}  # one scratch tensor per level, shared by its blocks
        skips = []
        for encoder, down in zip(self.encoders, self.downs):
            _blocks_nhwc(encoder, y, work, dtype)
            skips.append(y)
            c_in, c_out = down.in_channels, down.out_channels
            weight = _pad(_pad(down.weight, 1, c_in, y.shape[-1]), 0, c_out, fast_width(c_out))
            bias = _pad(down.bias, 0, c_out, fast_width(c_out))
            y = F.conv2d(y.permute(0, 3, 1, 2), weight, bias, down.stride, down.padding)
            y = y.permute(0, 2, 3, 1).contiguous()
        _blocks_nhwc(self.middle, y, work, dtype)
        for up, decoder, skip in zip(self.ups, self.decoders, reversed(skips)):
            y = _pixel_shuffle_add_(skip, y, up[0], up[1].upscale_factor, dtype)
            _blocks_nhwc(decoder, y, work, dtype)
        out = F.conv2d(y.permute(0, 3, 1, 2), tail_weight, tail_bias, tail.stride, tail.padding)
        out.add_(padded)
        if clamp:
            out.clamp_(0, scale)
        return out[..., :h, :w]


def _channels_last_strides(x: Tensor) -> Tuple[int, ...]:
    """The strides of a contiguous channels_last tensor of ``x``'s (N, C, H, W) shape."""
    n, c, h, w = x.shape
    return (h * w * c, 1, w * c, c)


def _blocks_nhwc(blocks: nn.Sequential, x: Tensor, work: Dict[tuple, Tensor],
                 dtype: Optional[torch.dtype]) -> None:
    """Run ``blocks`` on the (N, H, W, C) tensor ``x`` in place."""
    for block in blocks:
        dtype_ = dtype or x.dtype
        key = (*x.shape[:3], block.gated_width(x.shape[-1]), dtype_)
        if key not in work:
            work[key] = x.new_empty(key[:4], dtype=dtype_)
        block.forward_nhwc(x, out=x, work=work[key], dtype=dtype_)


def _pixel_shuffle_add_(skip: Tensor, x: Tensor, conv: nn.Conv2d, r: int,
                        dtype: Optional[torch.dtype]) -> Tensor:
    """``skip += pixel_shuffle(conv(x), r)`` on (N, H, W, C) tensors, in place.

    ``conv`` is 1x1; its output channels are reordered from (C, r, r) (the order
    ``nn.PixelShuffle`` reads) to (r, r, C), so each row of ``r * C`` outputs lands on
    ``r`` contiguous pixels of ``skip``. Runs in bands of rows that stay in the cache.
    ``x`` and ``skip`` may carry zero padding channels (:func:`fast_width`).
    """
    n, h, w, cin_p = x.shape
    cp = skip.shape[-1]
    cin = conv.in_channels
    c = conv.out_channels // (r * r)
    dtype = dtype or x.dtype
    weight = conv.weight.view(c, r, r, cin).permute(1, 2, 0, 3)
    weight = _pad(_pad(weight, 3, cin, cin_p), 2, c, cp).reshape(r * r * cp, cin_p)
    bias = _pad(conv.bias.view(c, r, r).permute(1, 2, 0), 2, c, cp).reshape(-1)
    weight, bias = weight.t().to(dtype), bias.to(dtype)
    target = skip.view(n, h, r, w, r * cp)  # (N, h, i, w, j * C): pixel (h*r + i, w*r + j)
    rows = max(1, _tile_floats(x, dtype) // (w * r * r * cp))
    for i in range(n):
        for r0 in range(0, h, rows):
            r1 = min(r0 + rows, h)
            z = torch.addmm(bias, x[i, r0:r1].reshape(-1, cin_p).to(dtype), weight)
            target[i, r0:r1].add_(z.view(r1 - r0, w, r, r * cp).transpose(1, 2))
    return skip


def _icnr_(conv: nn.Conv2d, scale: int) -> None:
    """ICNR in place: ``conv`` (before a ``PixelShuffle(scale)``) gets the same kernel
    for every sub-pixel position of an output channel, drawn with the default init of a
    conv with ``scale**2`` times fewer outputs; the bias likewise."""
    out = conv.out_channels // scale**2
    ref = nn.Conv2d(conv.in_channels, out, conv.kernel_size, bias=conv.bias is not None)
    with torch.no_grad():  # PixelShuffle reads channel c * scale**2 + k for sub-pixel k
        conv.weight.copy_(ref.weight.repeat_interleave(scale**2, dim=0))
        if conv.bias is not None:
            conv.bias.copy_(ref.bias.repeat_interleave(scale**2))


def _crop_like(feat: Tensor, h: int, w: int, padded_h: int) -> Tensor:
    scale = padded_h // feat.shape[-2]
    return feat[..., :max(1, -(-h // scale)), :max(1, -(-w // scale))]


def _factory(width: int, enc_blocks, middle_blocks: int, dec_blocks) -> dict:
    return dict(width=width, enc_blocks=enc_blocks, middle_blocks=middle_blocks,
                dec_blocks=dec_blocks)


#: The named sizes, chosen to fit the cost budgets at 640x640 (mmengine's counter):
#: T <= 2 GMACs, S <= 9 GMACs (a tenth of Faster R-CNN R50-FPN), B <= 30 GMACs.
#: Measured cost: docs/models.md; checked by tests/test_models/test_students/test_uniremoval_net.py.
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
