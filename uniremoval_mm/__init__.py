"""uniremoval_mm: one network that removes haze, rain, blur and noise, in OpenMMLab.

Importing the package (``custom_imports=dict(imports=['uniremoval_mm'])`` in a config)
applies the compatibility shims of :mod:`uniremoval_mm.compat` and registers our modules
into mmagic's / mmdet's / mmengine's registries. There is no registry of our own.
"""
from .compat import apply_all as _apply_compat_shims
from .version import __version__

_apply_compat_shims()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registers the modules)

__all__ = ['__version__']
