"""NonFiniteGuardAmpOptimWrapper: the guard and the GradScaler, each skipping its own steps.

mmengine's AmpOptimWrapper asserts a CUDA device when built and then makes a CUDA
GradScaler. These tests run on CPU: the assertion is patched, and the scaler is
``torch.amp.GradScaler('cpu')``, which runs the same unscale / found-inf / update
kernels on CPU tensors. The autocast path is tested with CPU bf16 (the only CPU dtype
mmengine's autocast allows); fp16 autocast on CUDA is not run here (no GPU).
"""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapperDict
from mmengine.registry import OPTIM_WRAPPERS

import uniremoval_mm  # noqa: F401
from uniremoval_mm.engine import NonFiniteGuardAmpOptimWrapper
from ..helpers import build_calibrator, unpaired_batch


@pytest.fixture(autouse=True)
def pretend_an_accelerator(monkeypatch):
    from mmengine.optim.optimizer import amp_optimizer_wrapper
    monkeypatch.setattr(amp_optimizer_wrapper, 'is_cuda_available', lambda: True)
    MessageHub.get_instance('amp_guard_test')


def _wrapper(params, scaler=True, **kwargs):
    wrapper = OPTIM_WRAPPERS.build(dict(
        type='NonFiniteGuardAmpOptimWrapper', optimizer=torch.optim.SGD(params, lr=0.1),
        **kwargs))
    if scaler:
        wrapper.loss_scaler = torch.amp.GradScaler('cpu', init_scale=2.0**8)
    return wrapper


def _model():
    torch.manual_seed(0)
    return torch.nn.Linear(3, 1)


def _hub(key):
    return MessageHub.get_current_instance().get_scalar(key).current()


def test_overflow_is_the_scalers_skip_counted_apart_and_training_goes_on():
    model = _model()
    wrapper = _wrapper(model.parameters(), max_skips=0)  # any guard skip would stop
    x = torch.rand(4, 3)
    wrapper.update_params(model(x).square().mean())
    trained = model.weight.detach().clone()
    hook = model.weight.register_hook(lambda g: g * float('inf'))
    wrapper.update_params(model(x).mean())  # finite loss, infinite gradient
    hook.remove()
    torch.testing.assert_close(model.weight.detach(), trained)  # the scaler skipped it
    assert wrapper.loss_scaler.get_scale() == 2.0**7  # and lowered the scale
    assert (wrapper.overflows, wrapper.skipped) == (1, 0)  # not the guard's skip
    assert _hub('train/amp_overflow_skips') == 1
    assert model.weight.grad is None or not model.weight.grad.any()
    wrapper.update_params(model(x).square().mean())  # the next step trains
    assert not torch.equal(model.weight.detach(), trained) and wrapper._overflow_run == 0


def test_nan_loss_is_the_guards_skip_and_the_scaler_never_sees_it():
    model = _model()
    wrapper = _wrapper(model.parameters(), max_skips=1)
    before = model.weight.detach().clone()
    wrapper.update_params(model(torch.rand(4, 3)).mean() * float('nan'))
    torch.testing.assert_close(model.weight.detach(), before)
    assert (wrapper.skipped, wrapper.overflows) == (1, 0)
    assert wrapper.loss_scaler.get_scale() == 2.0**8 and model.weight.grad is None
    with pytest.raises(FloatingPointError, match='max_skips=1'):
        wrapper.update_params(torch.tensor(float('inf'), requires_grad=True))


def test_gradients_not_finite_at_any_scale_stop_the_run():
    model = _model()
    wrapper = _wrapper(model.parameters(), max_consecutive_overflows=3)
    model.weight.register_hook(lambda g: g * float('nan'))
    for _ in range(3):
        wrapper.update_params(model(torch.rand(4, 3)).mean())
    with pytest.raises(FloatingPointError, match='max_consecutive_overflows=3'):
        wrapper.update_params(model(torch.rand(4, 3)).mean())
    assert wrapper.skipped == 0 and wrapper.overflows == 4


def test_clip_grad_sees_unscaled_gradients_and_skipped_steps_are_not_clipped():
    model = _model()
    wrapper = _wrapper(model.parameters(), clip_grad=dict(max_norm=1e-3))
    before = model.weight.detach().clone()
    wrapper.update_params(model(torch.rand(4, 3) * 100).square().mean())
    step = (model.weight.detach() - before).norm().item()
    assert 0 < step <= 0.1 * 1e-3 + 1e-7  # lr * clipped (unscaled) norm


def test_without_an_active_scaler_the_guard_checks_gradients_itself():
    """bf16 (or CPU) runs: mmengine's CUDA scaler is disabled, nothing else would skip."""
    model = _model()
    wrapper = _wrapper(model.parameters(), scaler=False, dtype='bfloat16')
    assert not wrapper.loss_scaler.is_enabled()
    before = model.weight.detach().clone()
    model.weight.register_hook(lambda g: g * float('inf'))
    wrapper.update_params(model(torch.rand(4, 3)).mean())
    torch.testing.assert_close(model.weight.detach(), before)
    assert (wrapper.skipped, wrapper.overflows) == (1, 0)


def test_bf16_autocast_runs_on_cpu_inside_optim_context():
    model = _model()
    wrapper = _wrapper(model.parameters(), scaler=False, dtype='bfloat16')
    with wrapper.optim_context(model):
        y = model(torch.rand(4, 3))
    assert y.dtype == torch.bfloat16
    before = model.weight.detach().clone()
    wrapper.update_params(y.float().square().mean())
    assert not torch.equal(model.weight.detach(), before) and wrapper.skipped == 0


def test_counters_and_scaler_survive_state_dict():
    model = _model()
    wrapper = _wrapper(model.parameters())
    wrapper.update_params(torch.tensor(float('nan'), requires_grad=True))
    hook = model.weight.register_hook(lambda g: g * float('inf'))
    wrapper.update_params(model(torch.rand(4, 3)).mean())
    hook.remove()
    state = wrapper.state_dict()
    assert state['nonfinite_skips'] == 1 and state['amp_overflow_skips'] == 1
    assert state['loss_scaler']['scale'] == 2.0**7
    fresh = _wrapper(_model().parameters())
    fresh.load_state_dict(state)
    assert (fresh.skipped, fresh.overflows, fresh.loss_scaler.get_scale()) == (1, 1, 2.0**7)


def test_invalid_limits():
    with pytest.raises(ValueError, match='max_consecutive_overflows'):
        _wrapper(_model().parameters(), max_consecutive_overflows=0)
    with pytest.raises(ValueError, match='max_skips'):
        _wrapper(_model().parameters(), max_skips=-2)


def test_gan_stage_both_players_under_amp():
    """Stage 2 with a guarded AMP wrapper per player: a NaN batch is skipped by both
    guards; an overflow in the discriminator is the scaler's skip, for it alone."""
    model = build_calibrator()
    optim = OptimWrapperDict(
        generator=_wrapper(model.generator.parameters(), dtype='bfloat16', max_skips=5),
        discriminator=_wrapper(model.discriminator.parameters(), dtype='bfloat16',
                               max_skips=5))
    for w in optim.values():
        w.optimizer = torch.optim.Adam(w.optimizer.param_groups[0]['params'], lr=1e-3)
    model.train_step(unpaired_batch(['haze', 'clean', 'rain']), optim)  # a normal AMP step
    assert all(w.skipped == 0 and w.overflows == 0 for w in optim.values())
    d_param = next(model.discriminator.parameters())
    hook = d_param.register_hook(lambda g: g * float('inf'))
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    model.train_step(unpaired_batch(['haze', 'clean', 'rain']), optim)
    hook.remove()
    assert optim['discriminator'].overflows == 1 and optim['discriminator'].skipped == 0
    assert all(torch.equal(a, p) for a, p in zip(d_before, model.discriminator.parameters()))
    assert optim['generator'].overflows == 0
    assert not all(torch.equal(a, p) for a, p in zip(g_before, model.generator.parameters()))
    forward = model.generator.forward
    model.generator.forward = lambda x, **kw: forward(x, **kw) * float('nan')
    model.train_step(unpaired_batch(['haze', 'clean', 'rain']), optim)
    assert optim['generator'].skipped == 1 and optim['discriminator'].skipped == 1


def test_amp_flag_keeps_the_guard(monkeypatch):
    """``tools/train.py --amp`` turns guarded wrappers into guarded AMP wrappers."""
    from mmengine.config import Config

    from uniremoval_mm.utils.cli import _enable_amp
    from ..conftest import REPO_ROOT
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    stage1 = Config.fromfile(REPO_ROOT / 'configs/uniremoval_stage1.py')
    _enable_amp(stage1)
    assert stage1.optim_wrapper.type == 'NonFiniteGuardAmpOptimWrapper'
    assert stage1.optim_wrapper.max_skips == 50 and stage1.optim_wrapper.loss_scale == 'dynamic'
    stage2 = Config.fromfile(REPO_ROOT / 'configs/uniremoval_stage2.py')
    _enable_amp(stage2)
    assert {stage2.optim_wrapper[k].type for k in ('generator', 'discriminator')} == {
        'NonFiniteGuardAmpOptimWrapper'}
    assert isinstance(OPTIM_WRAPPERS.get('NonFiniteGuardAmpOptimWrapper'), type)
    assert issubclass(NonFiniteGuardAmpOptimWrapper, __import__('mmengine').optim.AmpOptimWrapper)
