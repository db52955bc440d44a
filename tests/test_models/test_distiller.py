"""UniRemovalDistiller: routing, losses by role, frozen teachers, fallbacks, a real step."""
import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope

import uniremoval_mm  # noqa: F401
from uniremoval_mm.models import UniRemovalDistiller

STUDENT = dict(type='UniRemovalNet', width=4, enc_blocks=(1, 1), middle_blocks=1)
TEACHERS = dict(
    haze=dict(type='FrozenTeacher', model=dict(type='DarkChannelPrior', patch=5, radius=4)),
    noise=dict(type='FrozenTeacher', model=dict(type='DnCNN', depth=3, channels=4)),
    blur=None)
PRE = dict(type='DataPreprocessor', mean=[0.0] * 3, std=[255.0] * 3)


def _batch(types, size=(29, 35), seed=0):
    from mmagic.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for kind in types:
        gt = torch.randint(0, 256, (3, *size), generator=g, dtype=torch.uint8)
        lq = (gt.float() * 0.6 + 80).clamp(0, 255).to(torch.uint8)
        sample = DataSample(gt_img=gt, metainfo=dict(degradation_type=kind))
        inputs.append(lq)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def _model(**kwargs):
    cfg = dict(type='UniRemovalDistiller', generator=STUDENT, teachers=TEACHERS,
               data_preprocessor=PRE)
    cfg.update(kwargs)
    from mmagic.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmagic'):
        torch.manual_seed(0)
        return MODELS.build(cfg)


def test_losses_by_role_and_a_training_step():
    model = _model(feature_pairs=dict(noise=[('enc0', 'last')]))
    assert isinstance(model, UniRemovalDistiller) and set(model.teachers) == {'haze', 'noise'}
    data = model.data_preprocessor(_batch(['haze', 'noise', 'blur', 'mixed']), True)
    losses = model(**data, mode='loss')
    assert set(losses) == {'distill.loss_out', 'distill.loss_feat', 'sup.loss_pix',
                           'igcl.loss'}
    assert all(torch.isfinite(v) for v in losses.values())
    optim = OptimWrapper(torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=1e-3))
    before = {k: v.clone() for k, v in model.teachers.state_dict().items()}
    adapter = next(iter(model.adapters.values())).weight
    adapter_before = adapter.detach().clone()
    log = model.train_step(_batch(['haze', 'noise', 'blur', 'mixed']), optim)
    assert 'loss' in log and torch.isfinite(log['loss'])
    for k, v in model.teachers.state_dict().items():  # frozen teachers never move
        torch.testing.assert_close(v, before[k])
    assert all(not p.requires_grad for p in model.teachers.parameters())
    assert not torch.equal(adapter.detach(), adapter_before)  # the adapter learned


def test_samples_without_a_teacher_learn_from_the_ground_truth_only():
    model = _model()
    data = model.data_preprocessor(_batch(['blur', 'mixed']), True)
    losses = model(**data, mode='loss')
    assert 'distill.loss_out' not in losses and 'sup.loss_pix' in losses


def test_prediction_is_the_students():
    model = _model().eval()
    data = model.data_preprocessor(_batch(['haze']), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    assert out[0].output.pred_img.shape == (3, 29, 35)


def test_missing_teacher_checkpoint_falls_back_or_stops(tmp_path):
    missing = str(tmp_path / 'nope.pth')
    teachers = dict(TEACHERS, haze=dict(type='FrozenTeacher', model=dict(type='AODNet'),
                                        checkpoint=missing))
    fallbacks = dict(haze=TEACHERS['haze'])
    model = _model(teachers=teachers, teacher_fallbacks=fallbacks)
    assert type(model.teachers['haze'].model).__name__ == 'DarkChannelPrior'
    with pytest.raises(FileNotFoundError, match='model.teachers.haze.checkpoint: .*nope.pth'):
        _model(teachers=teachers, teacher_fallbacks=fallbacks, missing_teacher='error')
    with pytest.raises(FileNotFoundError, match='no entry for'):
        _model(teachers=teachers)


def test_feature_pairs_written_for_a_missing_teacher_are_dropped_with_its_fallback(tmp_path):
    # AOD-Net's tap 'k' does not exist in the dark channel prior that replaces it: the
    # haze pairs go (with a warning), the noise pairs of a present teacher stay
    teachers = dict(TEACHERS, haze=dict(type='FrozenTeacher', model=dict(type='AODNet'),
                                        checkpoint=str(tmp_path / 'nope.pth')))
    model = _model(teachers=teachers, teacher_fallbacks=dict(haze=TEACHERS['haze']),
                   feature_pairs=dict(haze=[('dec0', 'k')], noise=[('enc0', 'last')]))
    assert set(model.feature_pairs) == {'noise'}
    assert list(model.adapters) == ['noise__enc0__last']
    data = model.data_preprocessor(_batch(['haze', 'noise'], size=(17, 23)), True)
    losses = model(**data, mode='loss')
    sum(losses.values()).backward()
    assert model.adapters['noise__enc0__last'].weight.grad is not None
    with pytest.raises(ValueError, match='feature_pairs.haze: the teacher has no tap'):
        _model(feature_pairs=dict(haze=[('dec0', 'k')]))  # no fallback involved: an error


@pytest.mark.parametrize('kwargs, match', [
    (dict(positive='clean'), 'model.positive'),
    (dict(feature_pairs=dict(haze=[('enc9', 'dark')])), 'no tap'),
    (dict(feature_pairs=dict(blur=[('enc0', 'x')])), 'no teacher with feature taps'),
    (dict(pixel_loss=None, distill_loss=None), 'cannot both be None'),
])
def test_config_errors_name_the_field(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _model(**kwargs)


def test_igcl_takes_its_batch_negatives_from_other_degradation_types():
    model = _model()
    types = ['haze', 'haze', 'noise', 'noise', 'blur']
    data = model.data_preprocessor(_batch(types), True)
    seen = []
    model.igcl.register_forward_hook(
        lambda module, args, kwargs, out: seen.append(kwargs.get('groups')), with_kwargs=True)
    model(**data, mode='loss')
    assert seen == [types]
