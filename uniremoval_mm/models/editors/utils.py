"""What the stage-1 and stage-2 editors share."""
from typing import List, Optional

from ...utils.teacher_configs import missing_local_checkpoint  # noqa: F401 (re-exported)


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
