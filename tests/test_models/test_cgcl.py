"""CGCLLoss: the descriptor, the EMA memory bank, the contrast, gradients, errors."""
import numpy as np
import pytest
import torch
from skimage import data

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets.transforms import AddBlur, AddHaze, AddNoise
from uniremoval_mm.models import CGCLLoss, degradation_descriptor


def _crops(n=9, size=96, seed=0):
    rng = np.random.default_rng(seed)
    photos = [data.astronaut(), data.chelsea(), data.coffee()]
    out = []
    for i in range(n):
        p = photos[i % len(photos)]
        y, x = rng.integers(0, p.shape[0] - size), rng.integers(0, p.shape[1] - size)
        out.append(p[y:y + size, x:x + size].copy())
    return out


def _t(imgs):
    return torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).float() / 255


def _degrade(imgs, cls, **kw):
    return [cls(severity=4, seed=0, **kw)(dict(img=im.copy(), img_path=str(i)))['img']
            for i, im in enumerate(imgs)]


@pytest.fixture(scope='module')
def sets():
    clean, bank, held_out = _crops(seed=0), _crops(seed=1), _crops(seed=2)
    sets = dict(clean=_t(clean), other_clean=_t(held_out))
    for kind, cls in (('haze', AddHaze), ('noise', AddNoise), ('blur', AddBlur)):
        sets[kind] = _t(_degrade(bank, cls))  # what the memory bank sees
        sets[f'test_{kind}'] = _t(_degrade(held_out, cls))  # unseen content
    return sets


def test_descriptor_reads_the_degradations(sets):
    d = {k: degradation_descriptor(v).mean(0) for k, v in sets.items()}
    assert d['test_haze'][3] > d['other_clean'][3]  # dark channel lifted by haze
    assert d['test_blur'][4] < d['other_clean'][4]  # gradients weakened by blur
    assert d['test_noise'][5] > d['other_clean'][5]  # high-frequency share raised by noise
    x = sets['clean'].clone().requires_grad_()
    degradation_descriptor(x).sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def _trained_bank(sets, **kw):
    loss = CGCLLoss(num_degraded_clusters=3, **kw).train()
    for _ in range(3):
        loss.update(clean=sets['clean'], degraded=torch.cat([sets['haze'], sets['noise'],
                                                             sets['blur']]),
                    degraded_labels=torch.arange(3).repeat_interleave(9))
    return loss


def test_memory_bank_is_buffers_of_unit_prototypes(sets):
    loss = _trained_bank(sets)
    assert loss.seen.all()
    torch.testing.assert_close(loss.prototypes.norm(dim=1), torch.ones(4))
    assert {'prototypes', 'seen', 'stat_mean', 'stat_var'} <= set(loss.state_dict())


def test_clean_looking_outputs_cost_less_than_degraded_looking_ones(sets):
    loss = _trained_bank(sets).eval()
    clean_like = loss(sets['other_clean'])  # content no prototype has seen
    for kind in ('haze', 'noise', 'blur'):
        assert clean_like < loss(sets[f'test_{kind}']), kind


def test_descent_moves_outputs_towards_the_clean_cluster(sets):
    loss = _trained_bank(sets).eval()
    out = sets['test_haze'].clone().requires_grad_()
    opt = torch.optim.Adam([out], lr=0.01)
    start = loss(out).item()
    for _ in range(40):
        opt.zero_grad()
        loss(out.clamp(0, 1)).backward()
        opt.step()
    assert loss(out.clamp(0, 1)).item() < start


def test_eval_mode_leaves_the_bank_alone_and_empty_bank_gives_zero(sets):
    fresh = CGCLLoss()
    out = sets['haze'].clone().requires_grad_()
    zero = fresh.train()(out)  # nothing clean seen yet
    assert zero.item() == 0
    zero.backward()
    bank = _trained_bank(sets).eval()
    before = bank.prototypes.clone()
    bank(sets['haze'], clean=sets['other_clean'], degraded=sets['noise'])
    torch.testing.assert_close(bank.prototypes, before)


def test_online_kmeans_without_labels(sets):
    loss = CGCLLoss(num_degraded_clusters=2).train()
    loss.update(clean=sets['clean'], degraded=torch.cat([sets['haze'], sets['noise']]))
    assert loss.seen.all()
    with pytest.raises(ValueError, match='degraded_labels'):
        loss.update(degraded=sets["haze"], degraded_labels=torch.full((9, ), 5))


def test_encoder_taps_as_embedding(sets):
    enc = dict(type='UniRemovalNet', width=4, enc_blocks=(1, ), middle_blocks=1)
    loss = CGCLLoss(encoder=enc, layers=('enc0', 'middle'))
    assert loss.prototypes.shape == (5, 4 + 8)
    loss.update(clean=sets['clean'], degraded=sets['haze'],
                degraded_labels=torch.zeros(9, dtype=torch.long))
    out = sets['haze'][:, :, :37, :41].clone().requires_grad_()  # odd size
    loss(out).backward()
    assert out.grad is not None and all(not p.requires_grad for p in loss.encoder.parameters())
    with pytest.raises(ValueError, match='no taps'):
        CGCLLoss(encoder=enc, layers=('dec7', ))


@pytest.mark.parametrize('kwargs', [dict(num_degraded_clusters=0), dict(momentum=1.0),
                                    dict(temperature=0), dict(layers=('enc0', ))])
def test_invalid_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        CGCLLoss(**kwargs)
