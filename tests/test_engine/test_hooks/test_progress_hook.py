"""ProgressHook: a bar and a JSON progress file through a real mmengine run."""
import json

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

import uniremoval_mm  # noqa: F401
from uniremoval_mm.engine import ProgressHook


class _Toy(BaseModel):

    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(torch.stack(inputs) if isinstance(inputs, list) else inputs)
        if mode == 'loss':
            return dict(loss=out.pow(2).mean())
        return [dict(value=float(v)) for v in out.flatten()]


class _Data(Dataset):

    def __len__(self):
        return 5  # odd: the last batch of 2 is short

    def __getitem__(self, i):
        return dict(inputs=torch.full((3,), float(i)))


class _Count(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(data_samples)

    def compute_metrics(self, results):
        return dict(n=len(results))


class _Spy(Hook):
    """Reads the progress file after ProgressHook wrote it (a lower priority runs later)."""
    priority = 'LOWEST'

    def __init__(self, path):
        self.path, self.seen = path, []

    def _read(self):
        self.seen.append(json.loads(self.path.read_text()))

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._read()

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self._read()


def _loader(batch_size):
    return dict(dataset=_Data(), batch_size=batch_size, num_workers=0,
                sampler=dict(type='DefaultSampler', shuffle=False),
                collate_fn=dict(type='default_collate'))


def test_progress_file_follows_training_and_validation(tmp_path, capsys):
    spy = _Spy(tmp_path / 'work' / 'progress.json')
    runner = Runner(
        model=_Toy(), work_dir=str(tmp_path / 'work'),
        train_dataloader=dict(_loader(2), sampler=dict(type='InfiniteSampler', shuffle=False)),
        val_dataloader=_loader(3), val_evaluator=dict(type=_Count),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=5, val_interval=3), val_cfg=dict(),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=100), checkpoint=None),
        custom_hooks=[dict(type='ProgressHook', bar=True, progress_file='progress.json'), spy],
        default_scope='mmengine')
    runner.train()
    phases = [(s['phase'], s['done'], s['total']) for s in spy.seen]
    assert phases == [('train', 1, 5), ('train', 2, 5), ('train', 3, 5),
                      ('val', 1, 2), ('val', 2, 2),  # 5 samples in batches of 3
                      ('train', 4, 5), ('train', 5, 5), ('val', 1, 2), ('val', 2, 2)]
    assert all(isinstance(s['loss'], float) for s in spy.seen if s['phase'] == 'train')
    final = json.loads((tmp_path / 'work' / 'progress.json').read_text())
    assert final['finished'] and final['phase'] == 'train' and final['done'] == 5
    assert '5/5' in capsys.readouterr().err  # the bar, forced on although not a terminal


def test_interval_and_bad_arguments():
    with pytest.raises(ValueError, match='interval'):
        ProgressHook(interval=0)


def test_progress_file_follows_testing(tmp_path):
    spy = _Spy(tmp_path / 'work' / 'progress.json')
    spy.after_test_iter = spy.after_val_iter
    runner = Runner(
        model=_Toy(), work_dir=str(tmp_path / 'work'),
        test_dataloader=_loader(2), test_evaluator=dict(type=_Count), test_cfg=dict(),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=100), checkpoint=None),
        custom_hooks=[dict(type='ProgressHook', bar=False, progress_file='progress.json'), spy],
        default_scope='mmengine')
    runner.test()
    assert [(s['phase'], s['done'], s['total']) for s in spy.seen] == [
        ('test', 1, 3), ('test', 2, 3), ('test', 3, 3)]
    final = json.loads((tmp_path / 'work' / 'progress.json').read_text())
    assert final['finished'] and final['phase'] == 'test' and final['done'] == 3
