"""Shim: mmengine 0.10.7 writes checkpoints in place, so a crash can leave a torn one.

Problem. ``mmengine.runner.checkpoint.save_checkpoint`` (behind ``Runner.save_checkpoint``,
so behind every ``iter_N`` / ``epoch_N`` / ``best_*`` file of ``CheckpointHook``, and its
``publish`` step) opens the final file name and writes into it. A run killed during
the write (out of memory, preemption, a full disk, a power cut before the page cache
reaches the disk) leaves a truncated ``iter_N.pth``, and ``--resume`` then dies with
torch's ``PytorchStreamReader failed reading zip archive``. Worse, with
``max_keep_ckpts`` the hook deletes the oldest kept checkpoint *before* it writes the
new one: with ``max_keep_ckpts=1`` a kill mid-write leaves no readable checkpoint.

Fix. Local checkpoints are written to a temporary file in the same folder, flushed and
fsync'ed, then renamed over the final name (``os.replace``, atomic on POSIX and
Windows): a reader sees the old file or the whole new one, never a part. And
``CheckpointHook`` removes the checkpoints that ``max_keep_ckpts`` drops only after the
new one is saved. Remote backends (``s3://``, ``pavi://``, ...) are left to mmengine.

Remove this module when mmengine writes checkpoints atomically and deletes old ones
after saving (not the case up to 0.10.7).
"""
import contextlib
import functools
import os
import tempfile
from pathlib import Path
from typing import Union

import mmengine.runner
import mmengine.runner.checkpoint as mmengine_checkpoint
import mmengine.runner.runner as mmengine_runner
import torch
from mmengine.fileio import LocalBackend, get_file_backend
from mmengine.hooks import CheckpointHook

__all__ = ['apply', 'atomic_torch_save', 'is_applied']

_MARK = '_uniremoval_atomic_checkpoint'

#: Prefix and suffix of the temporary files; a crash can leave one behind, never
#: under a checkpoint's name.
TMP_PREFIX, TMP_SUFFIX = '.', '.part'


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_torch_save(obj, path: Union[str, Path]) -> None:
    """``torch.save`` to ``path`` atomically: temporary file, fsync, ``os.replace``.

    The temporary file is ``.<name>.<random>.part`` in the same folder (a rename is
    only atomic within one file system) and is removed if saving fails. The result
    gets the permissions ``open()`` would give a new file (0666 less the umask).

    Args:
        obj: What to save.
        path (str | Path): The final file; its folder is created if missing.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'{TMP_PREFIX}{path.name}.', suffix=TMP_SUFFIX,
                               dir=path.parent)
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _is_local(filename: str, backend_args) -> bool:
    if filename.startswith('pavi://'):
        return False
    return isinstance(get_file_backend(filename, backend_args=backend_args), LocalBackend)


def _atomic_save_checkpoint(original):

    @functools.wraps(original)
    def save_checkpoint(checkpoint, filename, file_client_args=None, backend_args=None):
        if file_client_args is None and _is_local(str(filename), backend_args):
            atomic_torch_save(checkpoint, filename)
        else:
            original(checkpoint, filename, file_client_args=file_client_args,
                     backend_args=backend_args)

    setattr(save_checkpoint, _MARK, True)
    return save_checkpoint


def _remove_after_saving(original):
    """Defer the hook's deletions of dropped checkpoints until the new one is saved."""

    @functools.wraps(original)
    def save_with_step(self, runner, step, meta):
        backend, deferred = self.file_backend, []
        # instance attributes shadow the backend's methods for this call only
        backend.remove = lambda path: deferred.append(('remove', path))
        backend.rmtree = lambda path: deferred.append(('rmtree', path))
        try:
            original(self, runner, step, meta)
        finally:
            del backend.remove, backend.rmtree
        for method, path in deferred:  # reached only if the save succeeded
            getattr(backend, method)(path)

    setattr(save_with_step, _MARK, True)
    return save_with_step


def is_applied() -> bool:
    """Whether :func:`apply` has run in this process."""
    return getattr(mmengine_checkpoint.save_checkpoint, _MARK, False)


def apply() -> None:
    """Make mmengine's checkpoint writes atomic, and deletions follow saves (idempotent)."""
    if is_applied():
        return
    atomic = _atomic_save_checkpoint(mmengine_checkpoint.save_checkpoint)
    # every name it is reachable by: the module, the package, Runner's module global
    mmengine_checkpoint.save_checkpoint = atomic
    mmengine.runner.save_checkpoint = atomic
    mmengine_runner.save_checkpoint = atomic
    CheckpointHook._save_checkpoint_with_step = _remove_after_saving(
        CheckpointHook._save_checkpoint_with_step)
