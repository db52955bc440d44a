"""uniremoval_mm: one network that removes haze, rain, blur and noise, in OpenMMLab.

Importing the package (``custom_imports=dict(imports=['uniremoval_mm'])`` in a config)
applies the compatibility shims of :mod:`uniremoval_mm.compat` and registers our modules
into mmagic's / mmdet's / mmengine's registries. There is no registry of our own.
"""
import warnings as _warnings

# Two start-up warnings that the stack prints (twice) before anything useful, and that no
# user of ours can act on: diffusers (imported by mmagic) calls a torch function that
# torch deprecated, and setuptools deprecates pkg_resources, which mmengine imports.
# Silenced narrowly (this message, from that module); every other warning still shows.
_warnings.filterwarnings('ignore', message=r'`torch\.utils\._pytree\._register_pytree_node`',
                         category=FutureWarning, module=r'diffusers\.')
_warnings.filterwarnings('ignore', message=r'pkg_resources is deprecated', category=UserWarning)

from .compat import apply_all as _apply_compat_shims  # noqa: E402
from .version import __version__  # noqa: E402

_apply_compat_shims()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registers the modules)

__all__ = ['__version__']
