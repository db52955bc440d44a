"""Inference helpers: tiled inference for images larger than memory allows."""
from .tiling import blend_window, tile_starts, tiled_forward

__all__ = ['tiled_forward', 'tile_starts', 'blend_window']
