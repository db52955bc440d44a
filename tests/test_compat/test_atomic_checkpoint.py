"""uniremoval_mm.compat.atomic_checkpoint: a save cut short never tears a checkpoint, and
``max_keep_ckpts`` deletes old checkpoints only after the new one is saved."""
import os

import mmengine.runner
import pytest
import torch

import uniremoval_mm  # noqa: F401  (applies the shim)
from uniremoval_mm.compat import atomic_checkpoint as shim
from uniremoval_mm.utils.checkpoint import atomic_torch_save, checkpoint_problem
from .test_mmengine_checkpoint import _runner


class _FailsHalfway:
    """Pickling this raises, after torch has written part of the archive."""

    def __reduce__(self):
        raise OSError('No space left on device')


def _mmengine_save(obj, path):
    mmengine.runner.save_checkpoint(obj, path)  # looked up now, after the shim


def test_shim_is_applied_everywhere_mmengine_saves():
    import mmengine.runner.checkpoint
    import mmengine.runner.runner
    assert shim.is_applied()
    save = mmengine.runner.checkpoint.save_checkpoint
    assert mmengine.runner.runner.save_checkpoint is save  # Runner.save_checkpoint's
    assert mmengine.runner.save_checkpoint is save  # CheckpointHook's publish step's
    shim.apply()  # idempotent
    assert mmengine.runner.checkpoint.save_checkpoint is save


@pytest.mark.parametrize('save', [atomic_torch_save, _mmengine_save])
def test_a_failed_save_leaves_the_old_file_whole_and_no_temporary(tmp_path, save):
    target = tmp_path / 'iter_2.pth'
    save({'state_dict': {'w': torch.ones(3)}}, str(target))
    assert checkpoint_problem(target) is None
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~shim._umask())
    with pytest.raises(OSError, match='No space left'):
        save({'state_dict': {'w': torch.zeros(1000)}, 'meta': _FailsHalfway()}, str(target))
    assert torch.load(target)['state_dict']['w'].tolist() == [1, 1, 1]
    assert os.listdir(tmp_path) == ['iter_2.pth']


def test_max_keep_ckpts_deletes_after_saving(tmp_path, monkeypatch):
    """max_keep_ckpts=1 and a save that fails: the previous checkpoint is still there."""
    runner = _runner(tmp_path, max_iters=4, experiment_name='flaky')
    hook = next(h for h in runner.hooks if type(h).__name__ == 'CheckpointHook')
    hook.max_keep_ckpts, hook.interval = 1, 1
    calls = []
    real_save = torch.save

    def flaky_save(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError('killed while saving')
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, 'save', flaky_save)
    with pytest.raises(OSError, match='killed while saving'):
        runner.train()
    assert sorted(p.name for p in tmp_path.glob('*.pth*')) == ['iter_1.pth']
    assert checkpoint_problem(tmp_path / 'iter_1.pth') is None
    assert (tmp_path / 'last_checkpoint').read_text().endswith('iter_1.pth')


def test_max_keep_ckpts_still_deletes(tmp_path):
    runner = _runner(tmp_path, max_iters=3, experiment_name='keep1')
    hook = next(h for h in runner.hooks if type(h).__name__ == 'CheckpointHook')
    hook.max_keep_ckpts, hook.interval = 1, 1
    runner.train()
    assert sorted(p.name for p in tmp_path.glob('*.pth*')) == ['iter_3.pth']
