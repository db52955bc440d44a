"""NonFiniteGuardOptimWrapper: NaN/Inf steps are skipped, counted, logged, and bounded."""
import pytest
import torch
from mmengine.logging import MessageHub
from mmengine.registry import OPTIM_WRAPPERS

import uniremoval_mm  # noqa: F401
from uniremoval_mm.engine import NonFiniteGuardOptimWrapper
from ..helpers import build_distiller, paired_batch


def _wrapper(max_skips=2, **kwargs):
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    wrapper = OPTIM_WRAPPERS.build(dict(
        type='NonFiniteGuardOptimWrapper', max_skips=max_skips,
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), **kwargs))
    return model, wrapper


def test_finite_steps_train_and_nonfinite_ones_change_nothing():
    MessageHub.get_instance('guard_test')
    model, wrapper = _wrapper()
    x = torch.rand(4, 3)
    before = model.weight.detach().clone()
    wrapper.update_params(model(x).square().mean())
    assert not torch.equal(model.weight, before)  # a normal step happened
    after_good = model.weight.detach().clone()
    wrapper.update_params(model(x).mean() * float('nan'))  # NaN loss
    torch.testing.assert_close(model.weight.detach(), after_good)
    assert wrapper.skipped == 1
    assert MessageHub.get_current_instance().get_scalar('train/nonfinite_skips').current() == 1
    wrapper.update_params(model(x).square().mean())  # training goes on after a skip
    assert not torch.equal(model.weight.detach(), after_good)


def test_infinite_gradient_is_skipped():
    model, wrapper = _wrapper(max_skips=5)
    x = torch.rand(4, 3)
    loss = model(x).mean()
    model.weight.register_hook(lambda g: g * float('inf'))
    before = model.weight.detach().clone()
    wrapper.update_params(loss)  # finite loss, infinite gradient
    torch.testing.assert_close(model.weight.detach(), before)
    assert wrapper.skipped == 1 and model.weight.grad is None


def test_too_many_skips_stop_with_a_clear_error():
    model, wrapper = _wrapper(max_skips=2)
    nan = torch.tensor(float('nan'), requires_grad=True)
    wrapper.update_params(nan)
    wrapper.update_params(nan)
    with pytest.raises(FloatingPointError, match='optim_wrapper.max_skips=2'):
        wrapper.update_params(nan)


def test_skip_count_survives_state_dict():
    model, wrapper = _wrapper(max_skips=None)
    wrapper.update_params(torch.tensor(float('inf'), requires_grad=True))
    state = wrapper.state_dict()
    assert state['nonfinite_skips'] == 1
    _, fresh = _wrapper()
    fresh.load_state_dict(state)
    assert fresh.skipped == 1


def test_invalid_max_skips():
    with pytest.raises(ValueError, match='max_skips'):
        NonFiniteGuardOptimWrapper(max_skips=-1, optimizer=torch.optim.SGD(
            torch.nn.Linear(1, 1).parameters(), lr=0.1))


def test_a_nan_batch_through_the_stage1_distiller_is_skipped():
    """NaN pixels reach the network (a float pipeline, a broken transform): the losses
    are not finite, the step is skipped, nothing moves, the next batch trains."""
    model = build_distiller()
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                                   lr=1e-3), max_skips=3)
    data = model.data_preprocessor(paired_batch(['haze', 'noise', 'blur']), True)
    data['inputs'][0, :, 2, 2] = float('nan')
    before = [p.detach().clone() for p in model.generator.parameters()]
    losses = model(**data, mode='loss')
    assert not all(torch.isfinite(v) for v in losses.values())
    parsed, _ = model.parse_losses(losses)
    wrapper.update_params(parsed)
    assert wrapper.skipped == 1
    assert all(torch.equal(a, p) for a, p in zip(before, model.generator.parameters()))
    model.train_step(paired_batch(['haze', 'noise', 'blur']), wrapper)
    assert wrapper.skipped == 1
    assert not all(torch.equal(a, p) for a, p in zip(before, model.generator.parameters()))
