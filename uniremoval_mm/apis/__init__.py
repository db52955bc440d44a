"""Inference: build a restorer and run it on pictures, whole or in tiles."""
from ..models.tiling import blend_window, bordered_forward, tile_starts, tiled_forward
from .inference import (AUTO_TILE_SIZE, DEFAULT_BORDER, RestorationError, Restorer, init_restorer,
                        restore_image)

__all__ = [
    'init_restorer', 'restore_image', 'Restorer', 'RestorationError', 'AUTO_TILE_SIZE',
    'DEFAULT_BORDER', 'tiled_forward', 'tile_starts', 'blend_window', 'bordered_forward'
]
