"""IGCLLoss: semantics of the contrast, gradients, modes, views, extractor, errors."""
import pytest
import torch

from uniremoval_mm.models import IGCLLoss, image_view


def _triplet(n=4, shape=(3, 19, 23), seed=0):
    g = torch.Generator().manual_seed(seed)
    clean = torch.rand(n, *shape, generator=g)
    degraded = (clean * 0.5 + 0.4 + 0.05 * torch.randn(n, *shape, generator=g)).clamp(0, 1)
    return clean, degraded


@pytest.mark.parametrize('mode', ['ratio', 'infonce'])
def test_closer_to_the_positive_is_cheaper(mode):
    clean, degraded = _triplet()
    loss = IGCLLoss(mode=mode)
    near_pos = loss(clean + 0.01, clean, degraded)
    near_neg = loss(degraded + 0.01, clean, degraded)
    assert near_pos < near_neg
    if mode == 'ratio':
        assert loss(clean, clean, degraded) == 0


@pytest.mark.parametrize('mode', ['ratio', 'infonce'])
def test_only_the_anchor_learns_and_descent_moves_it_to_the_positive(mode):
    clean, degraded = _triplet()
    positive = clean.clone().requires_grad_()
    negative = degraded.clone().requires_grad_()
    anchor = (degraded * 0.5 + clean * 0.5).clone().requires_grad_()
    loss_fn = IGCLLoss(mode=mode)
    opt = torch.optim.SGD([anchor], lr=0.05)
    before = (anchor - clean).abs().mean().item()
    for _ in range(30):
        opt.zero_grad()
        loss_fn(anchor, positive, negative).backward()
        opt.step()
    assert positive.grad is None and negative.grad is None
    assert (anchor - clean).abs().mean().item() < before


@pytest.mark.parametrize('shape', [(1, 3, 8, 8), (2, 3, 37, 53)])
def test_odd_sizes_views_and_reductions(shape):
    clean, degraded = _triplet(shape[0], shape[1:])
    anchor = clean.clone().requires_grad_()
    loss = IGCLLoss(views=('pixel', 'gradient', 'fft'), reduction='none')
    per = loss(anchor + 0.1 * degraded, clean, degraded)
    assert per.shape == (shape[0], ) and torch.isfinite(per).all()
    per.sum().backward()
    assert torch.isfinite(anchor.grad).all()
    total = IGCLLoss(views=('pixel', 'gradient', 'fft'), reduction='sum')(
        anchor.detach() + 0.1 * degraded, clean, degraded)
    torch.testing.assert_close(total, per.detach().sum())


def test_views():
    flat = torch.full((1, 3, 9, 7), 0.3)
    assert image_view(flat, 'gradient').abs().max() < 1e-5
    assert image_view(flat, 'fft').shape == (1, 3, 9, 4)
    with pytest.raises(ValueError, match='unknown view'):
        image_view(flat, 'wavelet')


def test_batch_negatives_change_the_loss():
    clean, degraded = _triplet()
    anchor = clean * 0.7 + degraded * 0.3
    own_only = IGCLLoss(batch_negative_weight=0.0)(anchor, clean, degraded)
    with_batch = IGCLLoss(batch_negative_weight=0.5)(anchor, clean, degraded)
    assert not torch.isclose(own_only, with_batch)
    single = IGCLLoss()(anchor[:1], clean[:1], degraded[:1])  # no other sample: own only
    assert torch.isfinite(single)


def test_feature_hierarchy_from_a_frozen_extractor():
    clean, degraded = _triplet(2, (3, 16, 20))
    extractor = dict(type='UniRemovalNet', width=4, enc_blocks=(1, ), middle_blocks=1)
    loss = IGCLLoss(extractor=extractor, layers=('enc0', 'middle'))
    assert loss.layer_weights == [0.5, 1.0]
    assert all(not p.requires_grad for p in loss.extractor.parameters())
    anchor = clean.clone().requires_grad_()
    loss(anchor * 0.9 + 0.1 * degraded, clean, degraded).backward()
    assert anchor.grad.abs().sum() > 0
    loss.train()
    assert not loss.extractor.training
    with pytest.raises(KeyError, match='lack'):
        IGCLLoss(extractor=extractor, layers=('dec9', ))(clean, clean, degraded)


@pytest.mark.parametrize('kwargs', [
    dict(views=('edges', )), dict(mode='triplet'), dict(reduction='avg'),
    dict(batch_negative_weight=2), dict(layers=('enc0', )), dict(views=()),
    dict(view_weights=(1.0, )),
])
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        IGCLLoss(**kwargs)


def test_shape_mismatch_raises():
    clean, degraded = _triplet()
    with pytest.raises(ValueError, match='same shape'):
        IGCLLoss()(clean, clean[:, :, :10], degraded)
