"""Compatibility shims between the pinned OpenMMLab stack and torch 2.14, and fixes to it.

One module per problem; each module's docstring states the error it fixes and when it
can be removed. :func:`apply_all` is called once when ``uniremoval_mm`` is imported.
"""
from . import atomic_checkpoint, cpu_distributed, mmengine_checkpoint, offline_imports


def apply_all() -> None:
    """Apply every shim (idempotent); ``offline_imports`` first, before mmagic loads."""
    offline_imports.apply()
    mmengine_checkpoint.apply()
    atomic_checkpoint.apply()
    cpu_distributed.apply()


__all__ = [
    'apply_all', 'atomic_checkpoint', 'cpu_distributed', 'mmengine_checkpoint', 'offline_imports'
]
