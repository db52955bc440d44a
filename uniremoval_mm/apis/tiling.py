"""Moved to :mod:`uniremoval_mm.models.tiling` (the pre-processor uses it); kept so that
``from uniremoval_mm.apis.tiling import ...`` goes on working."""
from ..models.tiling import (blend_window, bordered_forward, check_border, check_overlap,
                             max_overlap, tile_starts, tiled_forward)

__all__ = [
    'tiled_forward', 'tile_starts', 'blend_window', 'bordered_forward', 'check_border',
    'check_overlap', 'max_overlap'
]
