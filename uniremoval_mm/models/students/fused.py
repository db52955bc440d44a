"""The fused CPU inference form of :class:`UniRemovalNet`, made explicitly from a trained net.

``FusedUniRemovalNet(net)`` (or ``net.fuse()``) computes what ``net`` computes, faster on
CPU, like RepVGG's ``switch_to_deploy`` or mmcv's ``fuse_conv_bn``, with one difference:
nothing is converted ahead of time. The weights of the wrapped network are read, folded,
zero-padded and cast on every call, so the network, its ``state_dict`` and its
checkpoints stay exactly as trained, and the wrapper follows the network wherever it is
moved. It is for inference only: no gradients (it updates tensors in place), no
autocast, no tracing (export the network itself, e.g. to ONNX).

How it is fast (measured in ``docs/speed.md``): the features stay channels-last
(N, H, W, C) all the way; each 1x1 conv is one matrix product; each layer norm is folded
into the product after it; the blocks' residual scales, the residual additions and (at
batch 1) the channel attention are folded into the products' weights; everything runs
in cache-sized bands of rows or tiles of pixels (:data:`TILE_FLOATS`); the first level's
features carry zero channels up to whole SIMD vectors (:func:`fast_width`); and the
products may run in bfloat16.
"""
from typing import Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .uniremoval_net import LayerNorm2d, NAFBlock, UniRemovalNet

__all__ = ['FusedUniRemovalNet', 'fuse_restorer']

#: Floats per feature tile of the fused blocks: a tile and its few temporaries stay in the
#: CPU's caches (512 KiB of fp32 per tensor). Twice as many with bfloat16 products,
#: whose calls cost more each.
TILE_FLOATS = 2**17


class FusedUniRemovalNet(nn.Module):
    """A trained :class:`UniRemovalNet` as a fused CPU inference module.

    Computes what the network computes (up to float rounding) without gradients; see the
    module's docstring for how. The network is its only submodule (``self.net``), so
    ``.to()`` moves it and its parameters are the network's.

    Args:
        net (UniRemovalNet): The trained network; read, never changed.
    """

    def __init__(self, net: UniRemovalNet) -> None:
        super().__init__()
        if not isinstance(net, UniRemovalNet):
            raise TypeError(f'FusedUniRemovalNet needs a UniRemovalNet, got {type(net).__name__}')
        self.net = net

    @property
    def multiple(self) -> int:
        """The factor the network downsamples by (tiles stay on that grid)."""
        return self.net.multiple

    @torch.no_grad()
    def forward(self,
                x: Tensor,
                dtype: Optional[torch.dtype] = None,
                *,
                scale: float = 1.0,
                reverse_channels: bool = False,
                clamp: bool = False) -> Tensor:
        """Restore ``x``: the network's output, faster on CPU, without gradients.

        Blocks write their output over their input, and each pixel shuffle adds into
        its skip connection, so few full-size tensors are allocated.

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

        Raises:
            RuntimeError: Under tracing (export the network itself) or autocast (the
                fused products take float32 weights; pass ``dtype`` instead).
        """
        if torch.jit.is_tracing():
            raise RuntimeError('FusedUniRemovalNet is not traceable: export its .net')
        if torch.is_autocast_enabled(x.device.type):
            raise RuntimeError('FusedUniRemovalNet runs outside autocast: pass dtype instead')
        net = self.net
        if x.dim() != 4 or x.shape[1] != net.in_channels:
            raise ValueError(f'expected (N, {net.in_channels}, H, W), got {tuple(x.shape)}')
        padded, h, w = net.pad_to_multiple(x)
        if padded.stride() != _channels_last_strides(padded):  # e.g. a permuted image
            padded = padded.clone(memory_format=torch.channels_last)
        head, tail = net.head, net.tail
        head_weight, tail_weight, tail_bias = head.weight, tail.weight, tail.bias
        if reverse_channels:
            head_weight, tail_weight, tail_bias = (head_weight.flip(1), tail_weight.flip(0),
                                                   tail_bias.flip(0))
        if scale != 1:
            head_weight, tail_weight, tail_bias = (head_weight / scale, tail_weight * scale,
                                                   tail_bias * scale)
        c = net.width
        cp = fast_width(c)  # zero channels added to the features of the first level
        head_weight, head_bias = _pad(head_weight, 0, c, cp), _pad(head.bias, 0, c, cp)
        tail_weight = _pad(tail_weight, 1, c, cp)
        y = F.conv2d(padded, head_weight, head_bias, head.stride, head.padding)
        y = y.permute(0, 2, 3, 1).contiguous()  # (N, H, W, C); a copy only if the conv
        # did not keep channels_last
        work: Dict[tuple, Tensor] = {}  # one scratch tensor per level, shared by its blocks
        skips = []
        for encoder, down in zip(net.encoders, net.downs):
            _blocks_nhwc(encoder, y, work, dtype)
            skips.append(y)
            c_in, c_out = down.in_channels, down.out_channels
            weight = _pad(_pad(down.weight, 1, c_in, y.shape[-1]), 0, c_out, fast_width(c_out))
            bias = _pad(down.bias, 0, c_out, fast_width(c_out))
            y = F.conv2d(y.permute(0, 3, 1, 2), weight, bias, down.stride, down.padding)
            y = y.permute(0, 2, 3, 1).contiguous()
        _blocks_nhwc(net.middle, y, work, dtype)
        for up, decoder, skip in zip(net.ups, net.decoders, reversed(skips)):
            if isinstance(up[1], nn.PixelShuffle):
                y = _pixel_shuffle_add_(skip, y, up[0], up[1].upscale_factor, dtype)
            else:
                y = _bilinear_add_(skip, y, up[0])
            _blocks_nhwc(decoder, y, work, dtype)
        out = F.conv2d(y.permute(0, 3, 1, 2), tail_weight, tail_bias, tail.stride, tail.padding)
        out.add_(padded)
        if clamp:
            out.clamp_(0, scale)
        return out[..., :h, :w]


def fuse_restorer(net: nn.Module) -> nn.Module:
    """The fused inference form of ``net`` where there is one, else ``net`` itself.

    Args:
        net (nn.Module): A restoration network.

    Returns:
        nn.Module: :class:`FusedUniRemovalNet` for a :class:`UniRemovalNet`, else
        ``net``.
    """
    return FusedUniRemovalNet(net) if isinstance(net, UniRemovalNet) else net


def block_nhwc(block: NAFBlock, x: Tensor, out: Optional[Tensor] = None,
               work: Optional[Tensor] = None, dtype: Optional[torch.dtype] = None) -> Tensor:
    """``block`` on a channels-last (N, H, W, C) tensor, fused, for inference.

    The same weights, regrouped for speed on CPU, where this small block is limited by
    memory traffic rather than arithmetic: each 1x1 conv is one matrix product, and each
    norm is folded into the product after it (its affine into the weights; the per-pixel
    mean and variance come from two thin matrix products, faster than ``layer_norm``
    over 14-56 channels); ``beta``/``gamma`` are folded into the projections' weights and
    the residual additions into the products (``addmm_``); at batch 1 the channel
    attention is folded into the projection's weights as well. Everything before the
    channel attention's global mean runs in bands of rows, everything after it in tiles
    of pixels, of about :data:`TILE_FLOATS` floats, so that intermediate results stay in
    the cache instead of going through memory.

    ``x`` may carry zero channels after the block's own (C >= ``channels``, see
    :func:`fast_width`): the weights are zero-padded to match, the padding channels stay
    zero, and every per-pixel operation then works on whole SIMD vectors.

    Args:
        block (NAFBlock): The block.
        x (Tensor): (N, H, W, C), contiguous, float32; channels ``channels:`` zero.
        out (Tensor, optional): Where to write the result, same shape; may be ``x``
            itself (in place). Defaults to None (a new tensor).
        work (Tensor, optional): Scratch space of (N, H, W, C') in ``dtype``, with
            C' = :func:`gated_width` ``(block, C)``. Defaults to None (allocated).
        dtype (torch.dtype, optional): Dtype of the matrix products and the depth-wise
            conv, e.g. ``torch.bfloat16`` (the residual stream, the norms' statistics
            and the attention's mean stay in float32). Defaults to None (``x``'s).

    Returns:
        Tensor: (N, H, W, C), contiguous (``out`` if given).
    """
    n, h, w, cp = x.shape
    c, cw = block.project.out_channels, block.project.in_channels
    cwp = gated_width(block, cp)
    fw = block.ffn_out.in_channels
    fwp = fw if cp == c else fast_width(fw, always=True)
    dtype = dtype or x.dtype
    out = torch.empty_like(x) if out is None else out
    y = x.new_empty((n, h, w, cwp), dtype=dtype) if work is None else work
    ones = x.new_zeros(cp, 1)  # per-pixel means as matrix products
    ones[:c] = 1.0 / c
    w1, b1 = _fold_norm(block.norm1, block.expand)
    w1, b1 = _pad(_pad(w1, 0, cw, cwp, groups=2), 1, c, cp), _pad(b1, 0, cw, cwp, groups=2)
    dw_weight = _pad(block.dwconv.weight, 0, cw, cwp, groups=2).to(dtype)
    dw_bias = _pad(block.dwconv.bias, 0, cw, cwp, groups=2).to(dtype)
    w1, b1 = w1.to(dtype), b1.to(dtype)
    total = x.new_zeros(n, cwp)  # sum of y over the pixels, for the attention's mean
    # Norm, expand, depth-wise conv and gate in bands of rows that stay in the cache;
    # each band computes one extra row on either side for the 3x3 conv.
    rows = max(1, 2 * _tile_floats(x, dtype) // (cp * w))
    for i in range(n):
        for r0 in range(0, h, rows):
            r1 = min(r0 + rows, h)
            lo, hi = max(r0 - 1, 0), min(r1 + 1, h)
            e = _norm_linear(x[i, lo:hi].view(-1, cp), ones, block.norm1.eps, w1, b1)
            e = F.conv2d(e.view(1, hi - lo, w, -1).permute(0, 3, 1, 2), dw_weight,
                         dw_bias, padding=1, groups=dw_weight.shape[0])  # channels_last
            a, b = e[0, :, r0 - lo:r1 - lo].permute(1, 2, 0).chunk(2, dim=-1)
            band = torch.mul(a, b, out=y[i, r0:r1])  # SimpleGate
            total[i] += band.sum((0, 1), dtype=total.dtype)
    att = _linear(total[:, :cw] / (h * w), block.attention[1])  # (N, C'): attention
    weight = block.project.weight.flatten(1) * block.beta.view(-1, 1)
    if n == 1:
        weight = weight * att  # y * att, then project == project with scaled weights
    else:
        y.mul_(_pad(att, 1, cw, cwp).view(n, 1, 1, -1).to(dtype))
    weight = _pad(_pad(weight, 0, c, cp), 1, cw, cwp).t().to(dtype)
    bias = _pad(block.project.bias * block.beta.flatten(), 0, c, cp)
    w2, b2 = _fold_norm(block.norm2, block.ffn_in)
    w2, b2 = _pad(_pad(w2, 0, fw, fwp, groups=2), 1, c, cp), _pad(b2, 0, fw, fwp, groups=2)
    w2, b2 = w2.to(dtype), b2.to(dtype)
    ffn_weight = block.ffn_out.weight.flatten(1) * block.gamma.view(-1, 1)
    ffn_weight = _pad(_pad(ffn_weight, 0, c, cp), 1, fw, fwp).t().to(dtype)
    ffn_bias = _pad(block.ffn_out.bias * block.gamma.flatten(), 0, c, cp)
    xs, ys, outs = x.view(-1, cp), y.view(-1, cwp), out.view(-1, cp)
    # The rest is per pixel: run it in tiles that stay in the CPU's cache.
    tile = max(1, _tile_floats(x, dtype) // cp)
    for i in range(0, xs.shape[0], tile):
        t = torch.add(xs[i:i + tile], bias, out=outs[i:i + tile])
        _addmm_(t, ys[i:i + tile], weight)  # x + beta * project(y * att)
        a, b = _norm_linear(t, ones, block.norm2.eps, w2, b2).chunk(2, dim=-1)
        _addmm_(t.add_(ffn_bias), a * b, ffn_weight)  # + gamma * ffn_out(gate)
    return out


def gated_width(block: NAFBlock, width: int) -> int:
    """Channels of :func:`block_nhwc`'s scratch tensor for an input of ``width``.

    Args:
        block (NAFBlock): The block.
        width (int): Channels of its (possibly zero-padded) input.

    Returns:
        int: The gated branch's channels, padded like the input.
    """
    cw = block.project.in_channels
    return cw if width == block.project.out_channels else fast_width(cw, always=True)


def fast_width(channels: int, always: bool = False) -> int:
    """Channels of the fused path's features at a level of ``channels``.

    Widths just under 16 (14) are padded with zeros to 16, so that per-pixel operations
    over the channels run on whole 16-float SIMD vectors; other widths are kept
    (``docs/speed.md`` has the measurements).

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


def _channels_last_strides(x: Tensor) -> Tuple[int, ...]:
    """The strides of a contiguous channels_last tensor of ``x``'s (N, C, H, W) shape."""
    n, c, h, w = x.shape
    return (h * w * c, 1, w * c, c)


def _blocks_nhwc(blocks: nn.Sequential, x: Tensor, work: Dict[tuple, Tensor],
                 dtype: Optional[torch.dtype]) -> None:
    """Run ``blocks`` on the (N, H, W, C) tensor ``x`` in place."""
    for block in blocks:
        dtype_ = dtype or x.dtype
        key = (*x.shape[:3], gated_width(block, x.shape[-1]), dtype_)
        if key not in work:
            work[key] = x.new_empty(key[:4], dtype=dtype_)
        block_nhwc(block, x, out=x, work=work[key], dtype=dtype_)


def _bilinear_add_(skip: Tensor, x: Tensor, conv: nn.Conv2d) -> Tensor:
    """``skip += upsample_bilinear_2x(conv(x))`` on (N, H, W, C) tensors, in place.

    ``conv`` is 1x1 and runs at the low resolution (it commutes with the interpolation).
    ``x`` and ``skip`` may carry zero padding channels (:func:`fast_width`).
    """
    cin, c = conv.in_channels, conv.out_channels
    weight = _pad(_pad(conv.weight, 1, cin, x.shape[-1]), 0, c, skip.shape[-1])
    bias = _pad(conv.bias, 0, c, skip.shape[-1])
    z = F.conv2d(x.permute(0, 3, 1, 2), weight, bias)
    z = F.interpolate(z, scale_factor=2, mode='bilinear', align_corners=False)
    skip.add_(z.permute(0, 2, 3, 1))
    return skip


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
