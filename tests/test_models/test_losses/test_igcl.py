"""IGCLLoss: semantics of the contrast, gradients, modes, views, extractor, errors."""
import pytest
import torch
import torch.nn.functional as F

from uniremoval_mm.models import FrozenTeacher, IGCLLoss, batch_negative_indices, image_view


def _triplet(n=4, shape=(3, 19, 23), seed=0):
    g = torch.Generator().manual_seed(seed)
    clean = torch.rand(n, *shape, generator=g)
    degraded = (clean * 0.5 + 0.4 + 0.05 * torch.randn(n, *shape, generator=g)).clamp(0, 1)
    return clean, degraded


@pytest.mark.parametrize('mode', ['ratio', 'infonce', 'distance'])
def test_closer_to_the_positive_is_cheaper(mode):
    clean, degraded = _triplet()
    loss = IGCLLoss(mode=mode)
    near_pos = loss(clean + 0.01, clean, degraded)
    near_neg = loss(degraded + 0.01, clean, degraded)
    assert near_pos < near_neg
    if mode != 'infonce':
        assert loss(clean, clean, degraded) == 0


def test_distance_mode_scales_each_view_by_the_batch_travel_and_weighs_far_samples_most():
    clean, degraded = _triplet(n=3, shape=(3, 11, 13))
    anchor = (clean + degraded) / 2
    loss = IGCLLoss(views=('pixel', ), mode='distance', reduction='none')
    travel = (clean - degraded).abs().mean()
    expected = (anchor - clean).abs().mean((1, 2, 3)) / travel
    assert torch.allclose(loss(anchor, clean, degraded), expected, rtol=1e-5)
    # the same anchor error costs the same whatever the sample's own distance to its
    # input ('ratio' divides by it)
    far = degraded.clone()
    far[0] = (degraded[0] + 0.5).clamp(0, 1)
    anchor = clean + 0.02
    ratio = IGCLLoss(views=('pixel', ), mode='ratio', batch_negative_weight=0,
                     reduction='none')
    assert ratio(anchor, clean, far)[0] < ratio(anchor, clean, far)[1]
    dist = loss(anchor, clean, far)
    assert torch.allclose(dist[0], dist[1])


@pytest.mark.parametrize('mode', ['ratio', 'infonce', 'distance'])
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
    dict(view_weights=(1.0, )), dict(ratio_floor=-0.1),
])
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        IGCLLoss(**kwargs)


def test_shape_mismatch_raises():
    clean, degraded = _triplet()
    with pytest.raises(ValueError, match='same shape'):
        IGCLLoss()(clean, clean[:, :, :10], degraded)


def test_a_frozen_teacher_as_extractor_passes_gradients_to_the_anchor_only():
    torch.manual_seed(0)
    clean, degraded = _triplet(3, (3, 13, 11))
    extractor = FrozenTeacher(model=dict(type='UniRemovalNetT'), checkpoint=None)
    layers = ('enc0', 'enc1', 'middle')
    assert set(layers) <= set(extractor.feature_channels)
    loss_fn = IGCLLoss(views=(), extractor=extractor, layers=layers)
    assert loss_fn.extractor is extractor and not extractor.training
    params = list(extractor.parameters())
    before = [p.detach().clone() for p in params]
    anchor = (0.6 * clean + 0.4 * degraded).requires_grad_()
    opt = torch.optim.SGD([anchor, *params], lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.zero_grad()
    loss = loss_fn(anchor, clean, degraded)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss) and torch.isfinite(anchor.grad).all()
    assert anchor.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None for p in params)
    assert all(torch.equal(p, b) for p, b in zip(params, before))
    assert not extractor.training
    # build_frozen switched it to let gradients through; on inputs that need none (the
    # positive, the negative, a teacher's input) it still builds no graph
    assert extractor.input_grad and not extractor(degraded).requires_grad


@pytest.mark.parametrize('n,beta', [(1, 0.5), (1, 0.0), (3, 0.0)])
def test_ratio_is_bounded_at_an_identity_anchor_and_pulls_to_the_positive(n, beta):
    clean, degraded = _triplet(n, (3, 13, 11))
    loss_fn = IGCLLoss(views=('pixel', 'gradient'), batch_negative_weight=beta)
    anchor = degraded.clone().requires_grad_()  # an identity student: anchor == negative
    loss = loss_fn(anchor, clean, degraded)
    assert torch.isfinite(loss) and loss.item() <= 10 * sum(loss_fn.view_weights)
    loss.backward()
    direction = F.cosine_similarity(-anchor.grad.flatten(), (clean - degraded).flatten(), 0)
    assert direction > 0
    before = (anchor - clean).abs().mean().item()
    opt = torch.optim.SGD([anchor], lr=0.01 / anchor.grad.abs().max().item())
    opt.step()
    assert (anchor - clean).abs().mean().item() < before
    unfloored = IGCLLoss(views=('pixel', 'gradient'), batch_negative_weight=beta,
                         ratio_floor=0.0)(degraded, clean, degraded)
    assert unfloored > 1e4  # what the floor prevents


def test_ratio_bound_holds_for_any_anchor():
    clean, degraded = _triplet(5, (3, 9, 7))
    g = torch.Generator().manual_seed(1)
    for beta in (0.0, 0.5):
        loss_fn = IGCLLoss(views=('pixel', 'gradient', 'fft'), batch_negative_weight=beta,
                           reduction='none')
        for t in (0.0, 0.5, 1.0, 2.0):
            anchor = degraded + t * (clean - degraded) + 0.2 * torch.randn(
                clean.shape, generator=g)
            per = loss_fn(anchor, clean, degraded)
            assert (per <= 3 * max(1 / (1 - beta), 1 / loss_fn.ratio_floor) + 1e-4).all()


def test_batch_negative_indices():
    assert batch_negative_indices(4, 2) == [[3, 2], [0, 3], [1, 0], [2, 1]]  # as x.roll
    assert batch_negative_indices(4, 2, [None] * 4) == batch_negative_indices(4, 2)
    assert batch_negative_indices(1, 4, ['haze']) == [[]]
    assert batch_negative_indices(3, 4, ['rain', 'rain', 'haze']) == [[2], [2], [1, 0]]
    assert batch_negative_indices(3, 4, ['rain'] * 3) == [[], [], []]
    assert batch_negative_indices(3, 0, ['a', 'b', 'c']) == [[], [], []]
    groups = ['haze', 'rain', 'haze', 'noise', 'rain']
    for m in (1, 2, 4):
        for i, js in enumerate(batch_negative_indices(5, m, groups)):
            assert len(js) == min(m, sum(g != groups[i] for g in groups))
            assert all(groups[j] != groups[i] for j in js)
    with pytest.raises(ValueError, match='groups has 2 labels for a batch of 3'):
        batch_negative_indices(3, 4, ['a', 'b'])


def _reference(anchor, positive, negative, negatives, mode, beta=0.5, floor=0.1, tau=0.1):
    """Pixel-view IGCL of each sample against explicitly given batch negatives."""
    out = []
    for i, js in enumerate(negatives):
        d = [(anchor[i] - t).abs().mean() for t in (positive[i], negative[i])]
        bat = [(anchor[i] - negative[j]).abs().mean() for j in js]
        if mode == 'ratio':
            neg = (1 - beta) * d[1] + beta * torch.stack(bat).mean() if bat else d[1]
            travel = (positive[i] - negative[i]).abs().mean()
            out.append(d[0] / (neg + floor * travel + 1e-7))
        else:
            logits = -torch.stack(d + bat) / tau
            out.append(-F.log_softmax(logits, 0)[0])
    return torch.stack(out)


@pytest.mark.parametrize('mode', ['ratio', 'infonce'])
@pytest.mark.parametrize('groups', [['haze', 'rain', 'haze'],
                                    ['haze', 'rain', 'haze', 'noise', 'rain'], ['rain'],
                                    ['rain', None, 'rain']])
def test_batch_negatives_come_from_other_groups(mode, groups):
    n = len(groups)
    clean, degraded = _triplet(n, (3, 7, 9))
    # same-group inputs are near-copies of the anchor: as negatives they would dominate
    anchor = 0.7 * clean + 0.3 * degraded
    for i in range(n):
        for j in range(n):
            if j != i and groups[j] is not None and groups[j] == groups[i]:
                degraded[j] = anchor[i] + 0.01
    loss_fn = IGCLLoss(views=('pixel', ), mode=mode, reduction='none')
    per = loss_fn(anchor, clean, degraded, groups=groups)
    expected_neg = [[j for j in range(n) if j != i and (
        groups[i] is None or groups[j] != groups[i])] for i in range(n)]
    torch.testing.assert_close(per, _reference(anchor, clean, degraded, expected_neg, mode))
    any_other = [[j for j in range(n) if j != i] for i in range(n)]
    ungrouped = loss_fn(anchor, clean, degraded)
    torch.testing.assert_close(ungrouped,
                               _reference(anchor, clean, degraded, any_other, mode))
    if len(set(groups)) < n:
        assert not torch.allclose(per, ungrouped)
    anchor.requires_grad_()
    loss_fn(anchor, clean, degraded, groups=groups).sum().backward()
    assert torch.isfinite(anchor.grad).all() and anchor.grad.abs().sum() > 0
