"""uniremoval_mm.compat.mmengine_checkpoint: mmengine's own checkpoints under torch >= 2.6.

A checkpoint saved by an mmengine Runner must reload (``load_from``) and resume, while
torch's ``weights_only=True`` stays on for everything else.
"""
import pickle
from pathlib import Path

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner, load_checkpoint

import uniremoval_mm  # noqa: F401  (applies the shim)
from uniremoval_mm.compat import mmengine_checkpoint as shim
from ..helpers import CodeRunningPayload


class ToyModel(BaseModel):
    """Linear regression, enough for a Runner to train, log and checkpoint."""

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        out = self.linear(inputs)  # default_collate stacked the batch
        if mode == 'loss':
            return {'loss': ((out - targets) ** 2).mean()}
        return out


def _dataset(n=8):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(n, 2, generator=g)
    return [dict(inputs=x[i], targets=x[i, :1] * 2 - 1) for i in range(n)]


def _runner(work_dir: Path, max_iters: int, **kwargs) -> Runner:
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=_dataset(), sampler=dict(type='DefaultSampler', shuffle=True),
            batch_size=2, collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=10**6),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        randomness=dict(seed=0),
        default_scope='mmengine',
        **kwargs)


@pytest.fixture(scope='module')
def saved(tmp_path_factory):
    """A Runner trains 2 iterations and saves iter_2.pth (message hub, optimizer, meta)."""
    work_dir = tmp_path_factory.mktemp('run')
    runner = _runner(work_dir, max_iters=2)
    runner.train()
    ckpt = work_dir / 'iter_2.pth'
    assert ckpt.is_file()
    return ckpt, {k: v.clone() for k, v in runner.model.state_dict().items()}


def test_plain_torch_load_refuses_mmengine_checkpoint(saved):
    """The problem the shim solves: torch's default refuses mmengine's HistoryBuffer."""
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer|numpy'):
        torch.load(saved[0])


def test_shim_is_applied_to_every_loader():
    assert shim.is_applied()


def test_load_from_restores_weights(saved, monkeypatch):
    ckpt, weights = saved
    # as in a fresh process: no HistoryBuffer made yet, so no statistics registered
    from mmengine.logging import HistoryBuffer
    monkeypatch.setattr(HistoryBuffer, '_statistics_methods', {})
    model = ToyModel()
    checkpoint = load_checkpoint(model, str(ckpt))
    assert checkpoint['meta']['iter'] == 2
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, weights[key])


def test_runner_resumes_and_continues(saved, tmp_path):
    ckpt, weights = saved
    runner = _runner(tmp_path, max_iters=4, load_from=str(ckpt), resume=True)
    runner.train()
    assert runner.iter == 4
    # the message hub came back from the checkpoint: its loss history spans iterations 1-4
    assert len(runner.message_hub.get_scalar('train/loss').data[0]) == 4
    assert (tmp_path / 'iter_4.pth').is_file()
    resumed = runner.model.state_dict()['linear.weight']
    assert not torch.equal(resumed, weights['linear.weight'])  # it really trained on


def test_code_carrying_pickle_is_still_refused(tmp_path):
    marker = tmp_path / 'pwned'
    evil = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': CodeRunningPayload(marker)}, evil)
    with pytest.raises(pickle.UnpicklingError, match='Weights only load failed'):
        load_checkpoint(ToyModel(), str(evil))
    assert not marker.exists()


def test_later_registered_schemes_are_wrapped(saved):
    from mmengine.runner.checkpoint import CheckpointLoader, load_from_local

    def load_from_toy(filename, map_location=None):
        return load_from_local(filename[len('toy://'):], map_location)

    try:
        CheckpointLoader.register_scheme(prefixes='toy://', loader=load_from_toy)
        assert shim.is_applied()
        ckpt = CheckpointLoader.load_checkpoint(f'toy://{saved[0]}', map_location='cpu')
        assert ckpt['meta']['iter'] == 2
    finally:
        CheckpointLoader._schemes.pop('toy://', None)


def test_apply_is_idempotent():
    from mmengine.runner.checkpoint import CheckpointLoader
    before = dict(CheckpointLoader._schemes)
    shim.apply()
    assert dict(CheckpointLoader._schemes) == before


class _GetattrPayload:
    """Pickles as getattr(getattr, '__self__'): a path from getattr to the builtins module."""

    def __reduce__(self):
        return (getattr, (getattr, '__self__'))


def test_getattr_is_restricted_to_history_buffer_statistics(tmp_path):
    evil = tmp_path / 'getattr.pth'
    torch.save({'state_dict': {}, 'meta': _GetattrPayload()}, evil)
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer statistics'):
        load_checkpoint(ToyModel(), str(evil))


def test_a_history_buffer_before_its_first_update_loads(tmp_path):
    """An empty HistoryBuffer pickles its numpy array through ``bytes``: allowed."""
    from mmengine.logging import HistoryBuffer

    from uniremoval_mm.utils.checkpoint import load_external_checkpoint
    path = tmp_path / 'empty_buffer.pth'
    torch.save({'state_dict': ToyModel().state_dict(),
                'message_hub': {'log_scalars': {'train/loss': HistoryBuffer()}}}, path)
    loaded = load_external_checkpoint(str(path))
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer) and len(buffer.data[0]) == 0
    load_checkpoint(ToyModel(), str(path))  # mmengine's own loader, through the shim
