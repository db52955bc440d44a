"""Clear config errors before training: one line naming the field (issue 9, part 5).

Whole-config checks (uniremoval_mm.utils.config_checks, run by load_config) and the
checks each module makes when it is built: the distiller's teacher types, the
pre-processor's normalisation, impossible sizes.
"""

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import uniremoval_mm  # noqa: F401
from uniremoval_mm.utils.cli import run_cli
from uniremoval_mm.utils.config_checks import check_config
from uniremoval_mm.utils.errors import UsageError
from ..conftest import REPO_ROOT
from ..helpers import load_tool

FASTER = 'configs/detection/faster-rcnn_r50_fpn_uniremoval-s_dawn-fog.py'
RTMDET = 'configs/detection/rtmdet-tiny_uniremoval-s_rtts.py'
STAGE2 = 'configs/uniremoval_stage2.py'
TINY = dict(type='mmagic.UniRemovalNet', width=4, enc_blocks=(1, 1), middle_blocks=1)


def _cfg(path, **options):
    cfg = Config.fromfile(REPO_ROOT / path)
    cfg.merge_from_dict(options)
    return cfg


@pytest.mark.parametrize('path', [FASTER, RTMDET, STAGE2, 'configs/uniremoval_stage1.py',
                                  'configs/detection/yolox-s_uniremoval-s_rtts.py'])
def test_the_shipped_configs_pass(path):
    check_config(_cfg(path))


def test_a_replaced_preprocessor_that_lost_the_detectors_normalisation():
    cfg = _cfg(FASTER)
    cfg.model.data_preprocessor = dict(type='UniRemovalPreprocessor', restorer=TINY,
                                       pad_size_divisor=32)
    with pytest.raises(UsageError, match=r'model.data_preprocessor.mean/std are not set, but '
                       r"the backbone's weights \(torchvision://resnet50\) expect "
                       r'mean=\[123.675, 116.28, 103.53\]'):
        check_config(cfg)


@pytest.mark.parametrize('path, options, match', [
    (FASTER, {'model.data_preprocessor.bgr_to_rgb': False},
     'gives the detector BGR images .* expect RGB: fix bgr_to_rgb'),
    (FASTER, {'model.data_preprocessor.input_channel_order': 'rgb'},
     'gives the detector BGR images'),
    (FASTER, {'model.data_preprocessor.mean': [0.485, 0.456, 0.406]},
     r'model.data_preprocessor.mean=\[0.485, 0.456, 0.406\] but'),
    (RTMDET, {'model.data_preprocessor.std': [58.395, 57.12, 57.375]},
     r'model.data_preprocessor.std=.* \(https://.*cspnext-tiny_imagenet_600e.pth\) expect'),
    (RTMDET, {'model.data_preprocessor.bgr_to_rgb': True}, 'expect BGR: fix bgr_to_rgb'),
])
def test_normalisation_that_disagrees_with_the_pretrained_backbone(path, options, match):
    with pytest.raises(UsageError, match=match) as info:
        check_config(_cfg(path, **options))
    assert '\n' not in str(info.value)


def test_crop_too_small_for_the_discriminator():
    cfg = _cfg(STAGE2)
    cfg.train_dataloader.dataset.datasets[0].pipeline[1].crop_size = (16, 16)
    with pytest.raises(UsageError, match=r'crop_size=\(16, 16\) is smaller than the 24x24 that '
                       'model.discriminator.num_conv=3 needs'):
        check_config(cfg)
    check_config(_cfg(STAGE2, **{'model.discriminator.num_conv': 2}))  # 96 >= 12: fine


def test_train_tool_stops_with_one_line_before_building_anything(tmp_path, capsys):
    train = load_tool('train.py')
    code = run_cli(train.main, [str(REPO_ROOT / FASTER), '--work-dir', str(tmp_path / 'w'),
                                '--cfg-options', 'model.data_preprocessor.bgr_to_rgb=False'])
    err = capsys.readouterr().err
    assert code == 2 and err.count('\n') == 1 and 'fix bgr_to_rgb' in err
    assert not (tmp_path / 'w').exists()  # no runner, no work dir, no training


# ------------------------------------------------------------- the distiller's teachers
def _distiller(**kwargs):
    from mmagic.registry import MODELS
    cfg = dict(type='UniRemovalDistiller', generator=dict(type='UniRemovalNetT'),
               teachers=dict(haze=dict(type='FrozenTeacher',
                                       model=dict(type='DnCNN', depth=3, channels=4))),
               data_preprocessor=dict(type='DataPreprocessor', mean=[0.0] * 3,
                                      std=[255.0] * 3))
    cfg.update(kwargs)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return MODELS.build(cfg)


@pytest.mark.parametrize('kwargs, field', [
    (dict(teachers=dict(hazy=None)), 'model.teachers.hazy'),
    (dict(teacher_fallbacks=dict(Haze=None)), 'model.teacher_fallbacks.Haze'),
    (dict(feature_pairs=dict(smog=[('enc0', 'last')])), 'model.feature_pairs.smog'),
])
def test_a_teacher_mapped_to_an_unknown_degradation(kwargs, field):
    with pytest.raises(ValueError, match=f"{field}: '.*' is not a degradation type "
                       r"\(model.degradation_types: \['haze', 'rain'"):
        _distiller(**kwargs)


def test_own_degradation_types_and_samples_of_an_unknown_type():
    model = _distiller(teachers=dict(snow=None), degradation_types=['snow', 'haze'])
    from mmagic.structures import DataSample
    samples = DataSample(gt_img=torch.rand(2, 3, 9, 9))
    samples.set_metainfo(dict(degradation_type=['snow', 'rain']))
    with pytest.raises(ValueError, match=r"training samples of type \['rain'\], which is not "
                       r"in model.degradation_types \['snow', 'haze'\]"):
        model.forward_train(torch.rand(2, 3, 9, 9), samples)
    with pytest.raises(ValueError, match='model.degradation_types must not be empty'):
        _distiller(degradation_types=[])


# ---------------------------------------------------------- the pre-processor on its own
@pytest.mark.parametrize('kwargs, match', [
    (dict(mean=[123.675, 116.28, 103.53]), 'give both'),
    (dict(std=[58.395, 57.12, 57.375]), 'give both'),
    (dict(mean=[123.675, 116.28], std=[58.395, 57.12]), r'mean \(2 values\) and .std'),
    (dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12]), r'\(2 values\) need 3'),
    (dict(mean=[123.675, 116.28, 103.53], std=[58.395, 0, 57.375]), 'must be > 0'),
    (dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]), 'on the 0-1 scale'),
    (dict(bgr_to_rgb=True, rgb_to_bgr=True), 'both True'),
    (dict(pad_size_divisor=0), 'pad_size_divisor must be an int >= 1'),
    (dict(tile=dict(size=64, overlap=64)), 'data_preprocessor.tile.overlap .* at most 32'),
])
def test_preprocessor_settings_that_cannot_work(kwargs, match):
    from mmdet.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmdet'), pytest.raises(ValueError,
                                                                      match=match) as info:
        MODELS.build(dict(type='UniRemovalPreprocessor', restorer=TINY, **kwargs))
    assert str(info.value).startswith('data_preprocessor.')
