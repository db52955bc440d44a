"""Teacher configs: which teacher each degradation type gets once missing files are known."""
import copy
from pathlib import Path
from typing import Dict, Optional

from mmengine.logging import print_log


def missing_local_checkpoint(path: Optional[str]) -> Optional[str]:
    """``path`` if it names a local checkpoint file that does not exist, else None.

    Args:
        path (str, optional): A checkpoint path or URL.

    Returns:
        str | None: The missing path, or None (no path, a URL, or an existing file).
    """
    if path and not str(path).startswith(('http://', 'https://')) and not Path(path).is_file():
        return str(path)
    return None


def resolve_teachers(teachers: Dict[str, Optional[dict]],
                     fallbacks: Dict[str, Optional[dict]],
                     policy: str = 'fallback') -> Dict[str, Optional[dict]]:
    """The teacher config each type gets: its own, or its fallback if a file is missing.

    Args:
        teachers (dict[str, dict | None]): Teacher config per degradation type.
        fallbacks (dict[str, dict | None]): What replaces a teacher whose local
            checkpoint is missing (None: ground truth only).
        policy (str): ``'fallback'`` (warn and use ``fallbacks``) or ``'error'``.

    Returns:
        dict[str, dict | None]: Resolved configs (deep copies).

    Raises:
        FileNotFoundError: A checkpoint is missing and ``policy`` is ``'error'`` or the
            type has no fallback; the message names the config field.
    """
    resolved = {}
    for kind, cfg in teachers.items():
        missing = missing_local_checkpoint((cfg or {}).get('checkpoint'))
        if missing is None:
            resolved[kind] = copy.deepcopy(cfg)
            continue
        if policy == 'error' or kind not in fallbacks:
            raise FileNotFoundError(
                f'model.teachers.{kind}.checkpoint: {missing} not found'
                + ('' if policy == 'error' else
                   f' (and model.teacher_fallbacks has no entry for {kind!r})'))
        resolved[kind] = copy.deepcopy(fallbacks[kind])
        print_log(f'model.teachers.{kind}: {missing} not found; using the fallback '
                  f'{(fallbacks[kind] or {}).get("model", "ground truth only")}',
                  logger='current', level=30)
    return resolved
