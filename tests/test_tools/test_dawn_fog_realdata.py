"""Real foggy photos (DAWN, the acceptance set) through voc2coco and tools/test.py.

Three DAWN images of odd sizes (1170x414, 1279x853, and haze-012, which has no
objects), converted with COCO's 80 classes (as ``voc2coco.py --coco-classes`` does), run
through tools/test.py (in-process) behind the restorer. The detector's weights are
random (no COCO checkpoint offline): this checks the path end to end, not accuracy.
Nothing is trained or tuned on DAWN.
"""
import json
import shutil

import pytest

from ..conftest import REPO_ROOT
from ..helpers import load_tool

IMAGES = ('foggy-009', 'haze-087', 'haze-012')
RESTORER = ('type=mmagic.UniRemovalNet', 'width=4', 'enc_blocks=(1,1)', 'middle_blocks=1')


def _random_faster_rcnn(path):
    import torch
    from mmdet.registry import MODELS
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope

    import uniremoval_mm  # noqa: F401
    cfg = get_config('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py')
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdet'):
        torch.save({'state_dict': MODELS.build(cfg.model).state_dict(), 'meta': {}}, path)


def test_dawn_images_convert_and_run_through_test_py_with_the_restorer(realdata, tmp_path):
    dawn = realdata / 'detection' / 'dawn_fog'
    (tmp_path / 'xml').mkdir()
    for name in IMAGES:
        shutil.copy(dawn / 'voc_xml' / f'{name}.xml', tmp_path / 'xml')
    from mmdet.datasets import CocoDataset

    from uniremoval_mm.datasets.converters import voc_to_coco
    coco, report = voc_to_coco(tmp_path / 'xml', dawn / 'images',
                               CocoDataset.METAINFO['classes'], one_based=False)
    assert not report.problems
    ann = tmp_path / 'dawn.json'
    ann.write_text(json.dumps(coco))
    assert len(coco['categories']) == 80 and coco['categories'][2]['name'] == 'car'
    sizes = {i['file_name']: (i['width'], i['height']) for i in coco['images']}
    assert sizes['foggy-009.jpg'] == (1170, 414) and len(coco['images']) == 3
    ckpt = tmp_path / 'random.pth'
    _random_faster_rcnn(ckpt)
    tool = load_tool('test.py')
    code = tool.run_cli(tool.main, [
        str(REPO_ROOT / 'configs/detection/faster-rcnn_r50_fpn_uniremoval-s_dawn-fog.py'),
        str(ckpt), '--work-dir', str(tmp_path / 'work'), '--cfg-options',
        f'test_dataloader.dataset.data_root={dawn}/', f'test_dataloader.dataset.ann_file={ann}',
        f'test_evaluator.ann_file={ann}', 'test_dataloader.dataset.pipeline.1.scale=(320,192)',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
        'model.test_cfg.rcnn.score_thr=0.0',  # random weights score below mmdet's 0.05
        'model.data_preprocessor.restorer_checkpoint=None',
        *(f'model.data_preprocessor.restorer.{kv}' for kv in RESTORER)])
    assert code == 0
    log = next((tmp_path / 'work').glob('*/*.json'))
    metrics = json.loads(log.read_text())
    assert 0 <= metrics['coco/bbox_mAP'] <= 1  # random weights: near zero, but scored


def test_nothing_in_the_repository_trains_on_dawn():
    """The acceptance set appears only in test configs: never in a train dataloader."""
    from mmengine.config import Config
    for path in (REPO_ROOT / 'configs' / 'detection').glob('*dawn*.py'):
        cfg = Config.fromfile(str(path))
        assert 'dawn' not in str(cfg.train_dataloader).lower()
        assert 'dawn' in str(cfg.test_dataloader).lower()
    if not list((REPO_ROOT / 'configs' / 'detection').glob('*dawn*.py')):
        pytest.fail('no DAWN config found')
