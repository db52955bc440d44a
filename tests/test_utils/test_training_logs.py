"""uniremoval_mm.utils.training_logs.read_scalars: training records of one or several
optimisers, resumed logs, validation records left out, named errors."""
import json

import pytest

from uniremoval_mm.utils.errors import UsageError
from uniremoval_mm.utils.training_logs import read_scalars


def _log(work_dir, stamp, lines):
    path = work_dir / stamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text('\n'.join(x if isinstance(x, str) else json.dumps(x) for x in lines) + '\n')


def test_stage2_records_with_one_lr_per_optimiser_are_training_records(tmp_path):
    _log(tmp_path, '20260101_000000', [
        {'generator.lr': 2e-5, 'discriminator.lr': 1e-4, 'gan.loss_g': 0.1, 'iter': 10},
        {'heldout/NIQE': 5.0, 'step': 10},  # validation
        '',
        {'lr': 1e-3, 'loss': 0.5, 'iter': 5}])
    _log(tmp_path, '20260101_010000', [{'lr': 1e-3, 'loss': 0.2, 'iter': 10}])  # resumed
    records = read_scalars(str(tmp_path))
    assert [r['iter'] for r in records] == [5, 10]
    assert records[1] == {'lr': 1e-3, 'loss': 0.2, 'iter': 10}  # the later log wins


def test_missing_logs_and_bad_lines_are_named(tmp_path):
    with pytest.raises(UsageError, match='work dir not found'):
        read_scalars(tmp_path / 'nowhere')
    with pytest.raises(UsageError, match='no \\*/vis_data/scalars.json'):
        read_scalars(tmp_path)
    _log(tmp_path, '20260101_000000', [{'lr': 1, 'iter': 1}, '{not json'])
    with pytest.raises(UsageError, match=r'scalars.json:2: not a JSON line'):
        read_scalars(tmp_path)
