"""Loading checkpoints from outside: weights only, by default, and clear errors.

Checkpoints made by others are data, not code: they are loaded with
``torch.load(..., weights_only=True)`` unless the caller explicitly trusts the file.
"""
import hashlib
import os
import pickle
import re
import zipfile
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterable, Mapping, Optional, Tuple, Union

import torch
from mmengine.runner import find_latest_checkpoint
from torch import nn

from ..compat.atomic_checkpoint import atomic_torch_save
from ..compat.mmengine_checkpoint import MMENGINE_SAFE_GLOBALS

__all__ = [
    'CheckpointError', 'atomic_torch_save', 'checkpoint_problem', 'file_sha256',
    'latest_checkpoint', 'load_external_checkpoint', 'load_weights', 'remap_state_dict',
    'resume_checkpoint'
]


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: missing, refused, corrupt or mismatched."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks.

    Args:
        path (Path): The file.

    Returns:
        str: Hex digest.
    """
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str) -> Path:
    """Download ``url`` once into torch hub's checkpoint cache and return the file."""
    from urllib.parse import urlparse
    hub_dir = Path(torch.hub.get_dir()) / 'checkpoints'
    hub_dir.mkdir(parents=True, exist_ok=True)
    target = hub_dir / os.path.basename(urlparse(url).path)
    if not target.is_file():
        tmp = target.with_suffix(target.suffix + '.part')
        try:
            torch.hub.download_url_to_file(url, str(tmp), progress=True)
        except Exception as e:  # network errors come in many types
            tmp.unlink(missing_ok=True)
            raise CheckpointError(f'could not download {url}: {e}') from e
        tmp.replace(target)
    return target


def load_external_checkpoint(source: str,
                             trusted: bool = False,
                             sha256: Optional[str] = None,
                             map_location: str = 'cpu') -> dict:
    """Load a checkpoint file or URL as data.

    Args:
        source (str): A local path, or an ``http(s)://`` URL (downloaded once into
            torch hub's cache, ``~/.cache/torch/hub/checkpoints``).
        trusted (bool): Allow arbitrary pickled objects (``weights_only=False``). Only
            for files you trust: unpickling can run code. Defaults to False.
        sha256 (str, optional): Expected SHA-256 of the file; checked before loading.
            Defaults to None.
        map_location (str): Passed to ``torch.load``. Defaults to ``'cpu'``.

    Returns:
        dict: The loaded object.

    Raises:
        CheckpointError: If the file is missing, fails its hash, holds objects other
            than tensors and plain containers (without ``trusted``), or is corrupt.
    """
    if source.startswith(('http://', 'https://')):
        path = _download(source)
    else:
        path = Path(source).expanduser()
        if not path.is_file():
            raise CheckpointError(f'{source}: checkpoint file not found')
    if sha256 is not None:
        actual = file_sha256(path)
        if actual != sha256.lower():
            raise CheckpointError(f'{path}: sha256 {actual} does not match the expected {sha256}')
    try:
        # mmengine's own checkpoints (ours included) carry a few logging types: allowed,
        # with the same restricted allow-list the mmengine compat shim uses.
        with torch.serialization.safe_globals(MMENGINE_SAFE_GLOBALS):
            return torch.load(path, map_location=map_location, weights_only=not trusted)
    except pickle.UnpicklingError as e:
        if trusted:
            raise CheckpointError(f'{path}: corrupt checkpoint: {e}') from e
        reason = next((line.strip() for line in str(e).splitlines()
                       if 'Unsupported global' in line or 'refused' in line), 'see torch.load')
        raise CheckpointError(
            f'{path}: refused to load: it holds Python objects beyond tensors and plain '
            f'containers, and unpickling them could run code ({reason[:300]}). If you '
            'trust the file, pass trusted=True.') from e
    except (RuntimeError, EOFError, OSError) as e:
        raise CheckpointError(f'{path}: not a readable torch checkpoint: {e}') from e


def remap_state_dict(checkpoint: Mapping,
                     unwrap: Iterable[str] = ('state_dict', 'params_ema', 'params', 'model'),
                     select_prefix: Optional[str] = 'generator.',
                     strip_prefixes: Iterable[str] = ('module.', 'generator.'),
                     rename: Optional[Dict[str, str]] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Turn a checkpoint from another codebase into a plain state dict for our modules.

    Args:
        checkpoint (Mapping): What :func:`load_external_checkpoint` returned.
        unwrap (Iterable[str]): Keys under which the weights may be nested; the first
            present wins. Defaults to mmengine's, BasicSR's and common choices.
        select_prefix (str, optional): If any key starts with it, keep only those keys:
            the network inside a whole-model checkpoint (mmagic editors and our
            distiller keep it under ``generator.``, next to teachers, adapters and
            discriminators). Defaults to ``'generator.'``.
        strip_prefixes (Iterable[str]): Prefixes removed from every key that has them
            (``module.`` from DataParallel, ``generator.`` from mmagic editors).
        rename (dict[str, str], optional): Substring replacements applied to keys
            afterwards, in order. Defaults to None.

    Returns:
        OrderedDict[str, Tensor]: The remapped state dict.
    """
    state = checkpoint
    for key in unwrap:
        if isinstance(state, Mapping) and key in state and isinstance(state[key], Mapping):
            state = state[key]
            break
    if select_prefix and any(k.startswith(select_prefix) for k in state):
        state = {k: v for k, v in state.items() if k.startswith(select_prefix)}
    out = OrderedDict()
    for key, value in state.items():
        for prefix in strip_prefixes:
            if key.startswith(prefix):
                key = key[len(prefix):]
        for old, new in (rename or {}).items():
            key = key.replace(old, new)
        out[key] = value
    return out


def load_weights(model: nn.Module,
                 checkpoint: str,
                 converter: Optional[dict] = None,
                 strict: bool = True,
                 trusted: bool = False,
                 sha256: Optional[str] = None) -> None:
    """Load a checkpoint from outside into ``model``, as data, with remapped keys.

    Args:
        model (nn.Module): The network.
        checkpoint (str): Local path or ``http(s)`` URL.
        converter (dict, optional): Keyword arguments of
            :func:`~uniremoval_mm.utils.checkpoint.remap_state_dict`. Defaults to None.
        strict (bool): Raise if keys do not match. Defaults to True.
        trusted (bool): Allow arbitrary pickled objects. Defaults to False.
        sha256 (str, optional): Expected SHA-256 of the file. Defaults to None.

    Raises:
        CheckpointError: If loading is refused or the keys do not match (``strict``).
    """
    raw = load_external_checkpoint(checkpoint, trusted=trusted, sha256=sha256)
    state = remap_state_dict(raw, **(converter or {}))
    own = model.state_dict()
    wrong = [f'{k}: {tuple(v.shape)} in the file, {tuple(own[k].shape)} in the network'
             for k, v in state.items() if k in own and hasattr(v, 'shape')
             and tuple(v.shape) != tuple(own[k].shape)]
    if wrong:  # checked first: torch would copy the matching tensors before it raises
        raise CheckpointError(
            f'{checkpoint}: shapes do not match {type(model).__name__} ({"; ".join(wrong[:3])}'
            f'{"; ..." if len(wrong) > 3 else ""}): was it trained with other network '
            'arguments (size, width, down_kernel, upsample)? Build the network its config names')
    result = model.load_state_dict(state, strict=False)
    problems = []
    if result.missing_keys:
        problems.append(f'missing {result.missing_keys[:5]}')
    if result.unexpected_keys:
        problems.append(f'unexpected {result.unexpected_keys[:5]}')
    if problems and strict:
        raise CheckpointError(f'{checkpoint}: keys do not match {type(model).__name__} '
                              f'({"; ".join(problems)}); set converter= to remap them')


def latest_checkpoint(work_dir: Union[str, Path]) -> Optional[str]:
    """The checkpoint a training run saved last, by its work dir's ``last_checkpoint``.

    mmengine's :func:`~mmengine.runner.find_latest_checkpoint` reads the file; the path
    it holds is the one the run saw, so a work dir moved (or copied) since is looked in
    for the same file name.

    Args:
        work_dir (str | Path): A training run's work dir.

    Returns:
        str | None: The checkpoint's path; None if ``work_dir`` holds no
        ``last_checkpoint`` (or is not a folder).
    """
    if not (Path(work_dir) / 'last_checkpoint').is_file():
        return None  # (mmengine's finder would print a line about resuming)
    last = Path(find_latest_checkpoint(str(work_dir)))
    return str(last if last.is_file() else Path(work_dir) / last.name)


def checkpoint_problem(path: Union[str, Path]) -> Optional[str]:
    """Why a torch checkpoint file cannot be read, found without unpickling it.

    A torch (>= 1.6) checkpoint is a zip archive: its central directory is at the end
    (a truncated file has none) and every record carries a CRC-32, all checked here
    (one read of the file). A file in torch's older, non-zip format is loaded instead.

    Args:
        path (str | Path): The file.

    Returns:
        str | None: The problem in a few words; None if the file reads whole.
    """
    path = Path(path)
    if not path.is_file():
        return 'no such file'
    if path.stat().st_size == 0:
        return 'empty file'
    with open(path, 'rb') as f:
        zipped = f.read(4) == b'PK\x03\x04'
    if zipped and not zipfile.is_zipfile(path):
        return 'truncated: the zip archive has no central directory (a save cut short?)'
    if not zipped:
        try:
            load_external_checkpoint(str(path))
        except CheckpointError as e:
            return f'neither a torch zip archive nor a readable old-format file ({e})'
        return None
    try:
        with zipfile.ZipFile(path) as archive:
            if not any(n.endswith('/data.pkl') or n == 'data.pkl' for n in archive.namelist()):
                return 'a zip archive without data.pkl: not a torch checkpoint'
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        return f'unreadable zip archive ({e})'
    return f'record {bad} fails its CRC check (corrupt)' if bad else None


_NUMBERED = re.compile(r'^(iter|epoch)_(\d+)\.pth$')


def resume_checkpoint(work_dir: Union[str, Path],
                      path: Optional[str] = None) -> Tuple[Optional[str], Optional[str]]:
    """The checkpoint a run should resume from, checked readable.

    With ``path`` (``--resume PATH``) that file is checked. Without it (auto-resume),
    the one the work dir's ``last_checkpoint`` names is; if it is unreadable (a run
    killed while saving, a partial copy), the newest readable ``iter_N.pth`` /
    ``epoch_N.pth`` of the work dir is taken instead, by N (the kind the named file
    has first).

    Args:
        work_dir (str | Path): The run's work dir.
        path (str, optional): A checkpoint the user named. Defaults to None.

    Returns:
        tuple[str | None, str | None]: The checkpoint (None: auto-resume found no
        ``last_checkpoint``, so training starts from scratch, as mmengine does) and,
        when it is not the one that was named, a line that says which and why.

    Raises:
        CheckpointError: One line naming the file, if ``path`` is unreadable, or if the
            named latest one is and no other checkpoint of the work dir is readable.
    """
    if path is not None:
        problem = checkpoint_problem(path)
        if problem:
            raise CheckpointError(f'{path}: cannot resume from it: {problem}')
        return path, None
    work_dir = Path(work_dir)
    if not (work_dir / 'last_checkpoint').is_file():
        return None, None
    marker = (work_dir / 'last_checkpoint').read_text().strip()
    named = latest_checkpoint(work_dir) if marker else ''
    problem = checkpoint_problem(named) if named else 'last_checkpoint is empty'
    if problem is None:
        return named, None
    shown = named or str(work_dir / 'last_checkpoint')
    kind = _NUMBERED.match(Path(named).name)
    numbered = [(m.group(1) == (kind.group(1) if kind else 'iter'), int(m.group(2)), p)
                for p in work_dir.iterdir() for m in [_NUMBERED.match(p.name)] if m]
    for _, _, candidate in sorted(numbered, key=lambda c: c[:2], reverse=True):
        if checkpoint_problem(candidate) is None:
            return str(candidate), (f'{shown} is unreadable ({problem}); resuming from '
                                    f'{candidate}, the newest readable checkpoint')
    raise CheckpointError(f'{shown}: cannot resume: {problem}, and {work_dir} holds no other '
                          'readable iter_N.pth / epoch_N.pth')
