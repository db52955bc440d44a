"""RealPhotoPriorLoss: brightness, black level and colour of outputs against inputs."""
import pytest
import torch

import uniremoval_mm  # noqa: F401
from uniremoval_mm.models.losses import RealPhotoPriorLoss, highpass


def _pair(seed=0, shape=(2, 3, 19, 27)):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g) * 0.5 + 0.4
    return x


def test_an_output_like_its_input_costs_nothing():
    x = _pair()
    losses = RealPhotoPriorLoss()(x.clone(), x)
    assert set(losses) == {'prior.loss_brightness', 'prior.loss_black', 'prior.loss_colour'}
    assert all(float(v) == 0 for v in losses.values())


def test_darkening_crushing_and_cast_cost_and_backpropagate():
    x = _pair()
    y = (x * torch.tensor([0.5, 0.05, 0.02]).view(1, 3, 1, 1)).requires_grad_()
    losses = RealPhotoPriorLoss()(y, x)
    assert all(float(v.detach()) > 0 for v in losses.values())
    sum(losses.values()).backward()
    assert y.grad is not None and torch.isfinite(y.grad).all() and y.grad.abs().sum() > 0


def test_weights_turn_terms_off_and_one_sided():
    x = _pair()
    only = RealPhotoPriorLoss(black_weight=0, colour_weight=0)(x * 1.2, x)
    assert set(only) == {'prior.loss_brightness'} and float(only['prior.loss_brightness']) == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match='brightness_ratio and block_ratio'):
        RealPhotoPriorLoss(brightness_ratio=1.5)
    with pytest.raises(ValueError, match='black_weight must be >= 0'):
        RealPhotoPriorLoss(black_weight=-1)
    with pytest.raises(ValueError, match=r'expected two \(N, 3, H, W\)'):
        RealPhotoPriorLoss()(torch.rand(1, 3, 5, 5), torch.rand(1, 3, 5, 6))


def test_highpass_drops_tone_and_keeps_detail():
    x = torch.full((1, 3, 13, 17), 0.7)
    assert highpass(x, 2.0).abs().max() < 1e-5
    y = x.clone()
    y[..., 6, 8] = 1.0
    assert highpass(y, 2.0)[..., 6, 8].min() > 0.2
