"""configs/detection/*_uniremoval-*: mmdet detectors behind the restorer, as _base_ deltas."""
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..conftest import REPO_ROOT

# the demo-shapes configs have their own test (test_detection_configs.py)
CONFIGS = sorted(p for p in (REPO_ROOT / 'configs' / 'detection').glob('*_uniremoval-s_*.py')
                 if 'demo' not in p.stem)
DETECTORS = ('faster-rcnn_r50_fpn', 'retinanet_r50_fpn', 'rtmdet-tiny', 'yolox-s')
NORMALISATION = ('mean', 'std', 'bgr_to_rgb', 'pad_size_divisor')


def _mmdet_base(path):
    """The mmdet config a config derives from, through our own intermediate bases."""
    text = path.read_text()
    found = re.search(r"'(mmdet::[^']+)'", text)
    if found:
        return found.group(1)
    return _mmdet_base(path.parent / re.search(r"'\./([^']+)'", text).group(1))


def test_every_detector_has_a_foggy_coco_and_an_rtts_config():
    names = {p.stem for p in CONFIGS}
    dawn = 'faster-rcnn_r50_fpn_uniremoval-s_dawn-fog'
    assert names == {f'{d}_uniremoval-s_{s}' for d in DETECTORS
                     for s in ('foggy-coco', 'rtts')} | {dawn}


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_keeps_the_detectors_normalisation_and_predicts(path):
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmengine.hub import get_config

    import uniremoval_mm  # noqa: F401
    cfg = Config.fromfile(str(path))
    base = get_config(_mmdet_base(path))
    pre = cfg.model.data_preprocessor
    assert pre.type == 'UniRemovalPreprocessor' and pre.freeze
    for key in NORMALISATION:  # inherited, never re-typed: what the detector was trained on
        assert pre.get(key) == base.model.data_preprocessor.get(key), key
    if 'foggy' in path.stem:
        assert pre.keep_restored
        assert [m.type for m in cfg.test_evaluator] == ['CocoMetric',
                                                        'RestorationQualityMetric']
    elif 'dawn' in path.stem:  # COCO's 80 classes (the converter's --coco-classes)
        assert 'metainfo' not in cfg.test_dataloader.dataset
        assert cfg.train_dataloader.dataset.ann_file.endswith('instances_train2017.json')
    else:
        classes = cfg.test_dataloader.dataset.metainfo.classes
        assert classes == ('person', 'car', 'bus', 'bicycle', 'motorcycle')
        head = cfg.model.get('roi_head', cfg.model).bbox_head
        assert head.num_classes == 5
        assert cfg.test_evaluator.type == 'CocoMetric'
    cfg.model.backbone.init_cfg = None  # nothing to download
    cfg.model.data_preprocessor.restorer_checkpoint = None
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model).eval()
    sample = DetDataSample(metainfo=dict(img_shape=(61, 93), ori_shape=(61, 93),
                                         scale_factor=(1.0, 1.0)))
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[torch.randint(0, 255, (3, 61, 93), dtype=torch.uint8)],
                 data_samples=[sample]), training=False)
        pred = model(**data, mode='predict')
    div = pre.get('pad_size_divisor', 1)
    assert data['inputs'].shape[-2:] == (-(-61 // div) * div, -(-93 // div) * div)
    assert pred[0].pred_instances.bboxes.shape[-1] == 4
