from .fused import FusedUniRemovalNet, fuse_restorer
from .uniremoval_net import (SIZES, LayerNorm2d, NAFBlock, SimpleGate, UniRemovalNet,
                             UniRemovalNetB, UniRemovalNetS, UniRemovalNetT, build_uniremoval_net)

__all__ = [
    'UniRemovalNet', 'NAFBlock', 'SimpleGate', 'LayerNorm2d', 'SIZES', 'build_uniremoval_net',
    'UniRemovalNetT', 'UniRemovalNetS', 'UniRemovalNetB', 'FusedUniRemovalNet', 'fuse_restorer'
]
