"""UniRemovalDistiller: routing, losses by role, frozen teachers, fallbacks, a real step."""
import pytest
import torch
from mmengine.optim import OptimWrapper

import uniremoval_mm  # noqa: F401
from uniremoval_mm.models import UniRemovalDistiller
from ...helpers import TINY_TEACHERS, build_distiller, paired_batch


def test_losses_by_role_and_a_training_step():
    model = build_distiller(feature_pairs=dict(noise=[('enc0', 'last')]))
    assert isinstance(model, UniRemovalDistiller) and set(model.teachers) == {'haze', 'noise'}
    data = model.data_preprocessor(paired_batch(['haze', 'noise', 'blur', 'mixed']), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'distill.loss_out', 'distill.loss_feat', 'sup.loss_pix',
                           'igcl.loss', 'distill.reliability'}
    assert all(torch.isfinite(v) for v in losses.values())
    optim = OptimWrapper(torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3))
    before = {k: v.clone() for k, v in model.teachers.state_dict().items()}
    adapter = next(iter(model.adapters.values())).weight
    adapter_before = adapter.detach().clone()
    log = model.train_step(paired_batch(['haze', 'noise', 'blur', 'mixed']), optim)
    assert 'loss' in log and torch.isfinite(log['loss'])
    for k, v in model.teachers.state_dict().items():  # frozen teachers never move
        torch.testing.assert_close(v, before[k])
    assert all(not p.requires_grad for p in model.teachers.parameters())
    assert not torch.equal(adapter.detach(), adapter_before)  # the adapter learned


def test_samples_without_a_teacher_learn_from_the_ground_truth_only():
    model = build_distiller()
    data = model.data_preprocessor(paired_batch(['blur', 'mixed']), True)
    losses = model(**data, mode='loss')
    assert 'distill.loss_out' not in losses and 'sup.loss_pix' in losses


def test_prediction_is_the_students():
    model = build_distiller().eval()
    data = model.data_preprocessor(paired_batch(['haze']), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    assert out[0].output.pred_img.shape == (3, 29, 35)


def test_missing_teacher_checkpoint_falls_back_or_stops(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    teachers = dict(TINY_TEACHERS, haze=dict(type='FrozenTeacher', model=dict(type='AODNet'),
                                             checkpoint=missing))
    fallbacks = dict(haze=TINY_TEACHERS['haze'])
    model = build_distiller(teachers=teachers, teacher_fallbacks=fallbacks)
    assert type(model.teachers['haze'].model).__name__ == 'DarkChannelPrior'
    with pytest.raises(FileNotFoundError, match='model.teachers.haze.checkpoint: .*nope.pth'):
        build_distiller(teachers=teachers, teacher_fallbacks=fallbacks, missing_teacher='error')
    with pytest.raises(FileNotFoundError, match='no entry for'):
        build_distiller(teachers=teachers)


def test_feature_pairs_written_for_a_missing_teacher_are_dropped_with_its_fallback(tmp_path):
    # AOD-Net's tap 'k' does not exist in the dark channel prior that replaces it: the
    # haze pairs go (with a warning), the noise pairs of a present teacher stay
    teachers = dict(TINY_TEACHERS, haze=dict(type='FrozenTeacher', model=dict(type='AODNet'),
                                             checkpoint=str(tmp_path / 'nope.pth')))
    model = build_distiller(teachers=teachers, teacher_fallbacks=dict(haze=TINY_TEACHERS['haze']),
                            feature_pairs=dict(haze=[('dec0', 'k')], noise=[('enc0', 'last')]))
    assert set(model.feature_pairs) == {'noise'}
    assert list(model.adapters) == ['noise__enc0__last']
    data = model.data_preprocessor(paired_batch(['haze', 'noise'], size=(17, 23)), True)
    losses = model(**data, mode='loss')
    sum(losses.values()).backward()
    assert model.adapters['noise__enc0__last'].weight.grad is not None
    with pytest.raises(ValueError, match='feature_pairs.haze: the teacher has no tap'):
        build_distiller(feature_pairs=dict(haze=[('dec0', 'k')]))  # no fallback involved: an error


@pytest.mark.parametrize('kwargs, match', [
    (dict(positive='clean'), 'model.positive'),
    (dict(feature_pairs=dict(haze=[('enc9', 'dark')])), 'no tap'),
    (dict(feature_pairs=dict(blur=[('enc0', 'x')])), 'no teacher with feature taps'),
    (dict(pixel_loss=None, distill_loss=None), 'cannot both be None'),
])
def test_config_errors_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_distiller(**kwargs)


def test_igcl_takes_its_batch_negatives_from_other_degradation_types():
    model = build_distiller()
    types = ['haze', 'haze', 'noise', 'noise', 'blur']
    data = model.data_preprocessor(paired_batch(types), True)
    seen = []
    model.igcl.register_forward_hook(
        lambda module, args, kwargs, out: seen.append(kwargs.get('groups')), with_kwargs=True)
    model(**data, mode='loss')
    assert seen == [types]


class _Recorder(torch.nn.Module):
    """A teacher that records what it saw and returns ``fn(x)``."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.seen = []
        self.scale = torch.nn.Parameter(torch.ones(1), requires_grad=False)

    def forward(self, x, return_features=False):
        self.seen.append(x.clone())
        out = self.fn(x)
        return (out, {}) if return_features else out


def _routed_model(teachers, **kwargs):
    model = build_distiller(teachers=dict(haze=None, noise=None, blur=None), igcl=None, **kwargs)
    for kind, fn in teachers.items():
        model.teachers[kind] = _Recorder(fn)
    return model


def test_each_sample_reaches_its_own_teacher_with_weight_n_k_over_n():
    types = ['noise', 'haze', 'blur', 'noise', 'haze', 'mixed', 'noise']
    data = paired_batch(types, size=(17, 23))
    gt = torch.stack([s.gt_img for s in data['data_samples']]).float() / 255
    # teachers that return the clean image exactly: reliability 1 everywhere
    lookup = {}
    model = _routed_model(dict(haze=lambda x: lookup['gt'][lookup['idx']['haze']],
                               noise=lambda x: lookup['gt'][lookup['idx']['noise']]),
                          pixel_loss=None, teacher_bound=False,
                          distill_loss=dict(type='L1Loss', loss_weight=1.0))
    lookup.update(gt=gt, idx={k: [i for i, t in enumerate(types) if t == k]
                              for k in ('haze', 'noise')})
    batch = model.data_preprocessor(data, True)
    losses = model(**batch, mode='loss')
    for kind in ('haze', 'noise'):
        seen = torch.cat(model.teachers[kind].seen)
        torch.testing.assert_close(seen, batch['inputs'][lookup['idx'][kind]])
    student = model.generator(batch['inputs']).detach()
    per_sample = (student - gt).abs().flatten(1).mean(1)
    expected = sum(per_sample[i] for i, t in enumerate(types) if t in ('haze', 'noise')) / 7
    torch.testing.assert_close(losses['distill.loss_out'], expected, rtol=1e-4, atol=1e-6)
    assert losses['distill.reliability'].item() == pytest.approx(1.0)


def test_a_teacher_worse_than_its_input_pulls_nothing():
    types = ['haze', 'noise', 'haze', 'noise']
    data = paired_batch(types, size=(15, 21))
    gt = torch.stack([s.gt_img for s in data['data_samples']]).float() / 255
    haze = [0, 2]
    # haze teacher: the input's error made 1.5 times larger; noise: the input itself
    model = _routed_model(dict(haze=lambda x: gt[haze] + 1.5 * (x - gt[haze]),
                               noise=lambda x: x.clone()),
                          teacher_bound=False)
    batch = model.data_preprocessor(data, True)
    losses = model(**batch, mode='loss')
    assert losses['distill.reliability'].item() == 0
    assert losses['distill.loss_out'].item() == 0
    losses['distill.loss_out'].backward()
    assert all(p.grad is None or p.grad.abs().max() == 0 for p in model.generator.parameters())


@pytest.mark.parametrize('mode', ['sample', 'pixel'])
def test_reliability_is_the_share_of_the_input_error_removed(mode):
    model = build_distiller(distill_reliability=mode, igcl=None)
    g = torch.Generator().manual_seed(1)
    gt = torch.rand(2, 3, 13, 19, generator=g)
    x = gt + 0.2
    half = gt + 0.1   # removes half the error
    worse = gt + 0.3  # worse than the input
    r = model.reliability(torch.cat([half[:1], worse[1:]]), x, gt)
    assert r.shape == ((2, 1, 1, 1) if mode == 'sample' else (2, 1, 13, 19))
    assert r[0].mean().item() == pytest.approx(0.5, abs=0.02)
    assert r[1].max().item() == 0


def test_the_bound_drops_pixels_where_the_student_is_already_closer():
    types = ['haze', 'haze']
    data = paired_batch(types, size=(11, 13))
    lookup = {}
    model = _routed_model(dict(haze=lambda x: lookup['gt'] * 0.5 + x * 0.5),
                          distill_reliability='none', teacher_bound=True)
    lookup['gt'] = torch.stack([s.gt_img for s in data['data_samples']]).float() / 255
    batch = model.data_preprocessor(data, True)
    gt = batch['data_samples'].gt_img if hasattr(batch['data_samples'], 'gt_img') else None
    # make the student exact: then no pixel has a teacher closer than the student
    model.generator = _Exact(lookup['gt'])
    losses = model(**batch, mode='loss')
    assert gt is None or gt.shape[0] == 2
    assert losses['distill.reliability'].item() == 0 and losses['distill.loss_out'] == 0


class _Exact(torch.nn.Module):
    def __init__(self, out):
        super().__init__()
        self.out = out
        self.w = torch.nn.Parameter(torch.zeros(1))

    def forward(self, x, return_features=False):
        return self.out + self.w


def test_cached_teacher_outputs_replace_the_teacher():
    from mmagic.structures import DataSample
    types = ['haze', 'noise', 'blur']
    data = paired_batch(types, size=(9, 11))
    for s in data['data_samples']:
        s.set_data(dict(ref_img=torch.full_like(s.gt_img, 200)))
        s.set_metainfo(dict(has_teacher=s.degradation_type != 'blur'))
    model = _routed_model(dict(haze=lambda x: x, noise=lambda x: x), teacher_bound=False,
                          distill_reliability='none', pixel_loss=None,
                          distill_loss=dict(type='L1Loss', loss_weight=1.0))
    batch = model.data_preprocessor(data, True)
    assert isinstance(batch['data_samples'], (list, DataSample))
    losses = model(**batch, mode='loss')
    assert not model.teachers['haze'].seen and not model.teachers['noise'].seen
    student = model.generator(batch['inputs']).detach()
    expected = (student[:2] - 200 / 255).abs().mean() * 2 / 3
    torch.testing.assert_close(losses['distill.loss_out'], expected, rtol=1e-4, atol=1e-6)


def test_igcl_positive_is_the_teacher_output_for_every_teacher_without_ground_truth():
    from mmagic.structures import DataSample
    types = ['haze', 'noise', 'haze']
    data = paired_batch(types, size=(9, 13))
    data['data_samples'] = [DataSample(metainfo=dict(degradation_type=t)) for t in types]
    captured = {}

    class _Spy(torch.nn.Module):
        def forward(self, anchor, positive, negative, groups=None):
            captured.update(positive=positive.detach(), groups=groups)
            return anchor.mean() * 0

    model = _routed_model(dict(haze=lambda x: x * 0 + 0.25, noise=lambda x: x * 0 + 0.75))
    model.igcl = _Spy()
    batch = model.data_preprocessor(data, True)
    model(**batch, mode='loss')
    means = captured['positive'].flatten(1).mean(1).tolist()
    assert means == pytest.approx([0.25, 0.75, 0.25])
    assert captured['groups'] == types


def test_checkpoints_leave_the_teachers_out_and_load_back(tmp_path):
    from mmengine.runner.checkpoint import get_state_dict, save_checkpoint
    model = build_distiller(igcl=dict(type='IGCLLoss', views=('pixel', ), layers=('enc0', ),
                                      extractor=dict(type='UniRemovalNetT')))
    state = model.state_dict()
    assert not [k for k in state if k.startswith(('teachers.', 'igcl.extractor.'))]
    assert any(k.startswith('generator.') for k in state)
    assert not [k for k in get_state_dict(model) if k.startswith('teachers.')]
    save_checkpoint(dict(state_dict=get_state_dict(model)), str(tmp_path / 'c.pth'))
    saved = torch.load(tmp_path / 'c.pth', weights_only=False)['state_dict']
    assert not [k for k in saved if 'teachers.' in k or 'extractor.' in k]
    teacher = {k: v.clone() for k, v in model.teachers.state_dict().items()}
    other = build_distiller(igcl=dict(type='IGCLLoss', views=('pixel', ), layers=('enc0', ),
                                      extractor=dict(type='UniRemovalNetT')))
    with torch.no_grad():
        for p in other.generator.parameters():
            p.add_(1.0)
    other.load_state_dict(saved, strict=True)  # frozen parts come from the live modules
    for k, v in model.generator.state_dict().items():
        torch.testing.assert_close(other.generator.state_dict()[k], v)
    for k, v in other.teachers.state_dict().items():
        torch.testing.assert_close(v, teacher[k])


def test_clean_identity_term_restores_the_clean_images_too():
    model = build_distiller(clean_identity_weight=0.5,
                            igcl=dict(type='IGCLLoss', views=('pixel', ), loss_weight=0.1))
    torch.manual_seed(0)
    with torch.no_grad():  # past the identity start: S(y) != y
        for p in model.generator.parameters():
            p.add_(0.02 * torch.randn_like(p))
    data = model.data_preprocessor(paired_batch(['haze', 'noise']), True)
    losses = model(**data, mode='loss')
    term = losses['igcl.loss_identity']
    gt = data['data_samples'].gt_img
    want = 0.5 * model.igcl.identity(model.generator(gt), gt, data['inputs'])
    torch.testing.assert_close(term, want)
    assert term > 0
    model.generator.zero_grad()
    term.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.generator.parameters())
    assert 'igcl.loss_identity' not in build_distiller()(**data, mode='loss')
    with pytest.raises(ValueError, match='clean_identity_weight'):
        build_distiller(clean_identity_weight=1.0, igcl=None)
    with pytest.raises(ValueError, match='clean_identity_weight'):
        build_distiller(clean_identity_weight=-1.0)


def test_clean_identity_loss_gives_the_clean_images_back():
    """``sup.loss_identity`` = ρ(S(y), y) on the clean images: zero for the identity
    start, positive and learning once the student changes a clean image, off by
    default."""
    model = build_distiller(clean_identity_loss=dict(type='L1Loss', loss_weight=0.2), igcl=None)
    data = model.data_preprocessor(paired_batch(['haze', 'noise', 'blur'], size=(23, 31)), True)
    assert model(**data, mode='loss')['sup.loss_identity'] == 0  # a new student: S(y) = y
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.generator.parameters():
            p.add_(0.02 * torch.randn_like(p))
    term = model(**data, mode='loss')['sup.loss_identity']
    gt = data['data_samples'].gt_img
    torch.testing.assert_close(term, 0.2 * (model.generator(gt) - gt).abs().mean())
    model.generator.zero_grad()
    term.backward()
    assert model.generator.tail.weight.grad.abs().sum() > 0
    assert 'sup.loss_identity' not in build_distiller(igcl=None)(**data, mode='loss')


def test_init_checkpoint_starts_the_student_from_a_released_or_a_stage1_file(tmp_path):
    """A tuning stage starts from the released student; the iteration count stays new."""
    from ...helpers import save_stage1_checkpoint
    donor = build_distiller().generator
    with torch.no_grad():
        for i, p in enumerate(donor.parameters()):
            p.add_(0.01 * (i + 1))  # weights no new student has
    released = tmp_path / 'released.pth'
    torch.save({'state_dict': {k: v.half() for k, v in donor.state_dict().items()}}, released)
    stage1 = save_stage1_checkpoint(donor, tmp_path / 'iter_7.pth')
    (tmp_path / 'last_checkpoint').write_text(str(stage1))
    for source, tol in ((released, 1e-2), (stage1, 0.0), (tmp_path, 0.0)):
        model = build_distiller(init_checkpoint=str(source))
        for (name, got), want in zip(model.generator.state_dict().items(),
                                     donor.state_dict().values()):
            torch.testing.assert_close(got, want, atol=tol, rtol=0, msg=f'{source}: {name}')
    # a step from there still trains (and leaves the teachers out of the gradient)
    batch = paired_batch(('haze', 'noise'), size=(13, 17))
    losses = model.train_step(batch, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    assert all(torch.isfinite(v) for v in losses.values())
    with pytest.raises(FileNotFoundError, match='model.init_checkpoint: .*nope.pth not found'):
        build_distiller(init_checkpoint=str(tmp_path / 'nope.pth'))
