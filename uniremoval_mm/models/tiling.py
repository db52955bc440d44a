"""Tiled inference: run an image-to-image network on overlapping tiles and blend them.

Memory is bounded by the tile size, not the image size: at most ``batch_size`` tiles
(and the network's activations for them) exist at once, next to one output buffer and
one weight buffer of the image's size. Tiles are blended with a separable raised-cosine
window over the overlap, so seams do not show.

How close the result is to running the network on the whole image depends on the
network. For a purely convolutional one it is exact wherever every tile that covers a
pixel sees its whole receptive field. :class:`~uniremoval_mm.models.UniRemovalNet` is not
purely local: its blocks' channel attention pools each feature map globally, so every
output pixel depends a little on the whole image (or tile). Tiling it changes outputs
slightly everywhere; the tests measure by how much (``tests/test_models/test_tiling.py``).

One overlap rule holds wherever tiles are made (:func:`check_overlap`): at most half a
tile, and at most ``tile - align``.
"""
import math
from typing import Callable, List, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'tiled_forward', 'tile_starts', 'blend_window', 'bordered_forward', 'check_border',
    'check_overlap', 'max_overlap'
]


def _check_int(name: str, value, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f'{name} must be an int >= {minimum}, got {value!r}')


def check_border(border, name: str = 'border') -> int:
    """``border`` if it is an int >= 0 (a margin for :func:`bordered_forward`).

    Args:
        border: The value to check.
        name (str): How the error calls it. Defaults to ``'border'``.

    Returns:
        int: ``border``.

    Raises:
        ValueError: If it is not an int >= 0 (bools refused).
    """
    _check_int(name, border, 0)
    return border


def max_overlap(tile: int, align: int = 1) -> int:
    """The largest overlap allowed between tiles of side ``tile``.

    Half a tile: then a tile's two tapered ends (:func:`blend_window`) never meet, each
    pixel lies in at most two tiles per axis, and neighbours' weights add up to 1
    before normalising. And no more than ``tile - align``, so that the stride keeps
    tiles on the network's sampling grid.

    Args:
        tile (int): Tile side in pixels.
        align (int): The network's downsampling factor. Defaults to 1.

    Returns:
        int: ``min(tile // 2, tile - align)``, at least 0.
    """
    return max(0, min(tile // 2, tile - align))


def check_overlap(tile: int, overlap: int, align: int = 1,
                  names: Tuple[str, str] = ('tile', 'overlap')) -> None:
    """Check ``overlap`` against :func:`max_overlap` (the one rule for tiling).

    Args:
        tile (int): Tile side in pixels.
        overlap (int): Overlap of neighbouring tiles in pixels.
        align (int): The network's downsampling factor. Defaults to 1.
        names (tuple[str, str]): How the error calls the tile and the overlap (a
            config field, a flag). Defaults to ``('tile', 'overlap')``.

    Raises:
        ValueError: If ``overlap`` is over the limit.
    """
    limit = max_overlap(tile, align)
    if overlap > limit:
        grid = f', and {names[0]} - align ({tile} - {align})' if tile - align < tile // 2 else ''
        raise ValueError(f'{names[1]} ({overlap}) must be at most {limit} for {names[0]} '
                         f'{tile}: half a tile{grid}')


def bordered_forward(fn: Callable[[Tensor], Tensor], x: Tensor, border: int) -> Tensor:
    """Apply ``fn`` to ``x`` mirrored outwards by ``border`` pixels, and crop back.

    A convolutional network pads every layer with zeros, so the pixels along a picture's
    edges see a black frame: the students restored them differently from the rest (a
    light rim a few pixels wide along the top and left edges of dehazed pictures,
    docs/method.md, "The border"). Mirroring the picture outwards first (reflect
    padding; replicate where the picture is not larger than ``border``) gives the edge
    pixels picture-like surroundings; the margin is cropped off the output.

    Args:
        fn (Callable[[Tensor], Tensor]): The network (or any size-preserving function).
        x (Tensor): Input, (N, C, H, W).
        border (int): Margin in pixels on each side, >= 0; 0 runs ``fn(x)`` as it is.
            Keep it a multiple of the network's downsampling factor so that the
            picture keeps its place on the network's sampling grid.

    Returns:
        Tensor: ``fn``'s output for ``x``, (N, C_out, H, W).

    Raises:
        ValueError: If ``border`` is not an int >= 0, or ``fn`` changes the spatial size.
    """
    check_border(border)
    if not border:
        return fn(x)
    h, w = x.shape[-2:]
    mode = 'reflect' if border < min(h, w) else 'replicate'
    y = fn(F.pad(x, (border, border, border, border), mode=mode))
    if y.shape[-2:] != (h + 2 * border, w + 2 * border):
        raise ValueError(f'fn must keep the spatial size: {(h + 2 * border, w + 2 * border)} '
                         f'-> {tuple(y.shape[-2:])}')
    return y[..., border:border + h, border:border + w]


def tile_starts(size: int, tile: int, stride: int, align: int = 1) -> List[int]:
    """Start offsets of tiles of length ``tile`` covering ``[0, size)`` along one axis.

    Tiles lie inside the axis: the last one ends at ``size`` (so its overlap with the
    one before may exceed ``tile - stride``). An axis shorter than a tile gets one tile
    starting at 0, of the axis' length.

    Args:
        size (int): Axis length.
        tile (int): Tile length.
        stride (int): Distance between consecutive starts (``tile - overlap``).
        align (int): Make every start but the last a multiple of this (the stride is
            rounded down to a multiple of it). Defaults to 1.

    Returns:
        list[int]: Sorted, distinct starts.
    """
    if size <= tile:
        return [0]
    stride = max(align, stride - stride % align)
    starts = list(range(0, size - tile, stride))
    starts.append(size - tile)
    return sorted(set(starts))


def blend_window(length: int, overlap: int, taper_start: bool, taper_end: bool,
                 dtype: torch.dtype = torch.float32,
                 device: Optional[torch.device] = None) -> Tensor:
    """A 1-D blending weight: 1 in the middle, 0 then a raised cosine at tapered ends.

    A tapered end spends its ``overlap`` pixels as: a quarter at weight 0 (the pixels
    that saw the tile's artificial edge are dropped), half on a raised-cosine ramp, a
    quarter at weight 1. Two neighbours overlapping by exactly ``overlap`` then ramp
    over the same pixels, and their weights add up to 1 there; where tiles overlap more
    (the last tile of an axis), the blend is normalised by the summed weight.

    Args:
        length (int): Window length (the tile's length on this axis).
        overlap (int): The tiles' overlap on this axis.
        taper_start (bool): Taper the start (a neighbour tile overlaps there).
        taper_end (bool): Taper the end.
        dtype (torch.dtype): Defaults to float32.
        device (torch.device, optional): Defaults to None (CPU).

    Returns:
        Tensor: Shape ``(length, )``.
    """
    overlap = min(overlap, length)
    margin = overlap // 4
    ramp = overlap - 2 * margin
    up = torch.ones(overlap, dtype=dtype, device=device)
    up[:margin] = 0
    if ramp > 0:
        t = (torch.arange(ramp, dtype=dtype, device=device) + 0.5) / ramp
        up[margin:margin + ramp] = 0.5 - 0.5 * torch.cos(math.pi * t)
    w = torch.ones(length, dtype=dtype, device=device)
    if taper_start and overlap:
        w[:overlap] = torch.minimum(w[:overlap], up)
    if taper_end and overlap:
        w[length - overlap:] = torch.minimum(w[length - overlap:], up.flip(0))
    return w


def tiled_forward(fn: Callable[[Tensor], Tensor],
                  x: Tensor,
                  tile: int,
                  overlap: int,
                  batch_size: int = 1,
                  align: int = 1) -> Tensor:
    """Apply ``fn`` to ``x`` tile by tile and blend the tiles back together.

    ``fn`` must map ``(B, C, h, w)`` to ``(B, C_out, h, w)`` (same spatial size). Tiles
    are ``tile x tile`` (smaller where the image is), overlapping by at least
    ``overlap`` pixels; tiles of all images of the batch are fed ``batch_size`` at a
    time. Gradients flow through (the blend is differentiable), so it also serves
    training-time patch inference, at the memory cost of keeping every tile's graph.

    Args:
        fn (Callable[[Tensor], Tensor]): The network (or any size-preserving function).
        x (Tensor): Input, (N, C, H, W), any H and W >= 1.
        tile (int): Tile side in pixels, >= 1.
        overlap (int): Minimum overlap between neighbouring tiles, from 0 to
            :func:`max_overlap` (half a tile, and ``tile - align``); tiles blend over
            it (see :func:`blend_window`).
        batch_size (int): Tiles per call of ``fn``. Defaults to 1.
        align (int): Keep tiles on the whole image's sampling grid for a network that
            downsamples by this factor (a U-Net's ``2**levels``): tile starts become
            multiples of it, and an axis longer than a tile is first padded at the
            end (replicate, as :class:`UniRemovalNet` pads itself) to a multiple of it;
            the output is cropped back. Use a ``tile`` that is a multiple of ``align``.
            Defaults to 1.

    Returns:
        Tensor: ``(N, C_out, H, W)``, in the dtype and on the device of ``fn``'s output.

    Raises:
        ValueError: If an argument is invalid, or ``fn`` changes the spatial size.
    """
    _check_int('tile', tile, 1)
    _check_int('overlap', overlap, 0)
    _check_int('batch_size', batch_size, 1)
    _check_int('align', align, 1)
    check_overlap(tile, overlap, align)
    if not isinstance(x, Tensor) or x.dim() != 4:
        raise ValueError(f'x must be an (N, C, H, W) tensor, got {getattr(x, "shape", x)!r}')
    n, _, full_h, full_w = x.shape
    if min(n, full_h, full_w) < 1:
        raise ValueError(f'x must be non-empty, got shape {tuple(x.shape)}')
    pad_h = -full_h % align if full_h > tile else 0
    pad_w = -full_w % align if full_w > tile else 0
    if pad_h or pad_w:
        x = F.pad(x, (0, pad_w, 0, pad_h), mode='replicate')
    height, width = x.shape[-2:]

    stride = tile - overlap
    th, tw = min(tile, height), min(tile, width)
    ys = tile_starts(height, tile, stride, align)
    xs = tile_starts(width, tile, stride, align)
    boxes = [(i, y, x0) for i in range(n) for y in ys for x0 in xs]

    out = weight = None
    for first in range(0, len(boxes), batch_size):
        chunk = boxes[first:first + batch_size]
        batch = torch.stack([x[i, :, y:y + th, x0:x0 + tw] for i, y, x0 in chunk])
        pred = fn(batch)
        if pred.dim() != 4 or pred.shape[0] != len(chunk) or pred.shape[-2:] != (th, tw):
            raise ValueError(f'fn must keep the batch and spatial size: {tuple(batch.shape)} '
                             f'-> {tuple(pred.shape)}')
        if out is None:
            out = pred.new_zeros(n, pred.shape[1], height, width)
            weight = pred.new_zeros(1, 1, height, width)
            windows = _windows(ys, xs, th, tw, height, width, overlap, pred)
        for k, (i, y, x0) in enumerate(chunk):
            win = windows[(y, x0)]
            # In place on a slice: autograd records it, so gradients reach ``pred``.
            out[i, :, y:y + th, x0:x0 + tw] += pred[k] * win
            if i == 0:
                weight[0, :, y:y + th, x0:x0 + tw] += win
    out /= weight  # in place: no second image-sized buffer
    return out[..., :full_h, :full_w]


def _windows(ys, xs, th, tw, height, width, overlap, like: Tensor) -> dict:
    """The 2-D blending window of every tile position, by (y, x) start."""
    kw = dict(dtype=like.dtype, device=like.device)
    rows = {y: blend_window(th, overlap, y > 0, y + th < height, **kw) for y in ys}
    cols = {x0: blend_window(tw, overlap, x0 > 0, x0 + tw < width, **kw) for x0 in xs}
    return {(y, x0): rows[y][:, None] * cols[x0][None, :] for y in ys for x0 in xs}
