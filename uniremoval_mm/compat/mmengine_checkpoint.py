"""Shim: mmengine 0.10.7 loading its own checkpoints under torch >= 2.6.

Problem. torch 2.6 made ``torch.load(..., weights_only=True)`` the default. mmengine
0.10.7 calls ``torch.load(path, map_location=...)`` in every checkpoint loader
(``mmengine.runner.checkpoint.CheckpointLoader``: local files, http(s), torchvision://,
open-mmlab://, s3://, ...). The restricted unpickler then refuses the non-tensor objects
that mmengine itself writes into a checkpoint: the ``MessageHub`` state holds
``mmengine.logging.HistoryBuffer`` objects whose logs are numpy arrays, and the meta
holds numpy scalars. So ``resume`` and ``load_from`` fail on mmengine's own files with
``UnpicklingError: Weights only load failed ... HistoryBuffer``.

Fix. Keep ``weights_only=True`` and allow-list exactly the types mmengine writes
(:data:`MMENGINE_SAFE_GLOBALS`; its ``getattr`` is replaced by one that only returns
``HistoryBuffer``'s statistics methods), only for the duration of mmengine's own loader calls
(each registered loader runs inside ``torch.serialization.safe_globals``). Nothing is
allow-listed process-wide, and any other global in a file (e.g. a pickle whose
``__reduce__`` would run code) is still refused by torch.

Remove this module when mmengine passes ``weights_only`` and allow-lists its types
itself (not the case up to 0.10.7).
"""
import functools
import importlib
import pickle
from typing import Callable, List

import numpy as np
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

__all__ = ['MMENGINE_SAFE_GLOBALS', 'apply', 'is_applied']


def _numpy_globals() -> List:
    """The numpy globals that pickled arrays, dtypes and scalars refer to."""
    # numpy < 2 pickles refer to numpy.core.multiarray, numpy >= 2 to numpy._core.multiarray
    core = importlib.import_module('numpy._core' if int(np.__version__.split('.')[0]) >= 2
                                   else 'numpy.core')
    found = [core.multiarray._reconstruct, core.multiarray.scalar, np.ndarray, np.dtype]
    # numpy >= 1.25 pickles dtypes through their per-type classes (np.dtypes.Float64DType).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        found += [getattr(dtypes, name) for name in dir(dtypes) if name.endswith('DType')]
    return found


# HistoryBuffer._set_default_statistics registers these on the first instance; a fresh
# process that resumes has created none yet, so they are named here.
_DEFAULT_STATISTICS = frozenset({'min', 'max', 'current', 'mean'})


def _history_buffer_getattr(obj, name: str):
    """``getattr`` as mmengine's pickles need it, and no further.

    A pickled ``HistoryBuffer`` stores its statistics as ``getattr(HistoryBuffer, 'mean')``
    and so on. The real ``builtins.getattr`` would let a crafted file walk from any
    allowed object to, e.g., ``builtins.eval``; this one only hands out the statistics
    methods that ``HistoryBuffer`` registered.
    """
    allowed = _DEFAULT_STATISTICS | set(HistoryBuffer._statistics_methods)
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'refused: the checkpoint asks for getattr({obj!r}, {name!r}); only '
        'HistoryBuffer statistics may be looked up while loading an mmengine checkpoint')


#: What mmengine 0.10.7 writes into its own checkpoints (``message_hub``, ``meta``):
#: HistoryBuffer, numpy arrays/dtypes/scalars, and ``getattr`` (mapped to a restricted one).
MMENGINE_SAFE_GLOBALS: List = [
    HistoryBuffer, *_numpy_globals(), (_history_buffer_getattr, 'builtins.getattr'),
    # an empty numpy array (a HistoryBuffer before its first update) pickles its data
    # through bytes(); allow-listing the bytes type runs no code
    bytes,
]

_MARK = '_uniremoval_safe_globals'


def _with_safe_globals(loader: Callable) -> Callable:

    @functools.wraps(loader)  # keeps __name__: CheckpointLoader logs it
    def wrapped(*args, **kwargs):
        with torch.serialization.safe_globals(MMENGINE_SAFE_GLOBALS):
            return loader(*args, **kwargs)

    setattr(wrapped, _MARK, True)
    return wrapped


def apply() -> None:
    """Wrap every registered mmengine checkpoint loader (idempotent).

    Loaders registered later (``CheckpointLoader.register_scheme``) are wrapped too.
    """
    schemes = CheckpointLoader._schemes
    for prefix, loader in list(schemes.items()):
        if not getattr(loader, _MARK, False):
            schemes[prefix] = _with_safe_globals(loader)
    if not getattr(CheckpointLoader._register_scheme, _MARK, False):
        original = CheckpointLoader._register_scheme.__func__

        def _register_scheme(cls, prefixes, loader, force=False):
            return original(cls, prefixes, _with_safe_globals(loader), force=force)

        setattr(_register_scheme, _MARK, True)
        CheckpointLoader._register_scheme = classmethod(_register_scheme)


def is_applied() -> bool:
    """Whether every registered mmengine checkpoint loader is wrapped.

    Returns:
        bool: True when :func:`apply` covers all current loaders.
    """
    return all(getattr(fn, _MARK, False) for fn in CheckpointLoader._schemes.values())
