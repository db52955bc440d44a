"""Reading the training records that mmengine writes to ``<timestamp>/vis_data/scalars.json``."""
import json
from pathlib import Path
from typing import Dict, List, Union

from .errors import UsageError

__all__ = ['read_scalars']


def _is_training(record: dict) -> bool:
    # training records carry the learning rate: ``lr``, or ``<optimizer>.lr`` with
    # several optimisers (stage 2's generator and discriminator); validation ones do not
    return 'iter' in record and any(k == 'lr' or k.endswith('.lr') for k in record)


def read_scalars(work_dir: Union[str, Path]) -> List[dict]:
    """The training records of every log under ``work_dir``, by iteration.

    Args:
        work_dir (str | Path): A run's work dir (``<timestamp>/vis_data/scalars.json``
            below it, one per start of the run).

    Returns:
        list[dict]: One record per logged iteration, sorted; where a resumed run logged
        an iteration again, its later log wins.

    Raises:
        UsageError: If the folder or its logs are missing, or a line is not JSON (the
            file and line are named).
    """
    work_dir = Path(work_dir)
    if not work_dir.is_dir():
        raise UsageError(f'work dir not found: {work_dir}')
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    if not logs:
        raise UsageError(f'{work_dir}: no */vis_data/scalars.json (is it a work dir of '
                         'tools/train.py?)')
    by_iter: Dict[int, dict] = {}
    for log in logs:
        for n, line in enumerate(log.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise UsageError(f'{log}:{n}: not a JSON line ({e.msg})') from None
            if _is_training(record):
                by_iter[int(record['iter'])] = record
    return [by_iter[i] for i in sorted(by_iter)]
