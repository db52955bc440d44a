"""What the stage-1 and stage-2 editors share."""
from pathlib import Path
from typing import List, Optional


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


def sample_types(data_samples, key: str, n: int) -> List[Optional[str]]:
    """The degradation type of each of the ``n`` stacked samples (None where absent).

    Args:
        data_samples (DataSample): Stacked samples.
        key (str): Metainfo key of the type.
        n (int): Batch size.

    Returns:
        list[str | None]: One type per sample.
    """
    types = data_samples.metainfo.get(key)
    if types is None:
        return [None] * n
    return list(types) if isinstance(types, (list, tuple)) else [types] * n
