"""tools/analysis_tools/detection_benchmark.py: the derived test configs and the table."""
import json

import pytest
from mmengine.config import Config

from ..conftest import REPO_ROOT
from ..helpers import load_tool

DET_CONFIG = REPO_ROOT / 'configs' / 'detection' / 'rtmdet-tiny_demo-shapes.py'


@pytest.fixture()
def bench():
    return load_tool('analysis_tools/detection_benchmark.py')


def _det_root(tmp_path):
    root = tmp_path / 'det'
    for sub in ('val', 'haze/images'):
        (root / sub).mkdir(parents=True)
    ann = json.dumps(dict(images=[], annotations=[], categories=[dict(id=1, name='disk')]))
    (root / 'val.json').write_text(ann)
    (root / 'haze' / 'val.json').write_text(ann)
    return root


def test_derived_config_puts_a_frozen_restorer_with_its_border_in_front(bench, tmp_path):
    root = _det_root(tmp_path)
    net = bench.restorer_config('UniRemovalNetS')
    assert net['type'] == 'mmagic.UniRemovalNetS'
    for border in (0, 16):
        path = tmp_path / f'haze_{border}.py'
        path.write_text(bench.derived_config(DET_CONFIG, root, 'haze', net, 'ckpt.pth',
                                             max_images=7, border=border))
        cfg = Config.fromfile(str(path))
        pre = cfg.model.data_preprocessor
        assert pre.type == 'UniRemovalPreprocessor' and pre.freeze and pre.keep_restored
        assert pre.get('border', 0) == border  # 0 is the pre-processor's own default
        assert cfg.test_dataloader.dataset.ann_file == str(root / 'haze' / 'val.json')
        assert cfg.test_dataloader.dataset.indices == 7
        metrics = [m['type'] for m in cfg.test_evaluator]
        assert metrics == ['CocoMetric', 'RestorationQualityMetric']
    raw = tmp_path / 'clean_raw.py'
    raw.write_text(bench.derived_config(DET_CONFIG, root, 'clean', None, None, border=16))
    cfg = Config.fromfile(str(raw))
    assert cfg.model.data_preprocessor.type == 'DetDataPreprocessor'  # raw: no restorer
    with pytest.raises(FileNotFoundError, match='rain'):
        bench.derived_config(DET_CONFIG, root, 'rain', None, None)


def test_table_gives_the_recovered_share_and_skips_sets_with_no_loss(bench):
    rows = [dict(set='clean', mode='raw', **{'coco/bbox_mAP': 0.8, 'coco/bbox_mAP_50': 0.9}),
            dict(set='haze', mode='raw', **{'coco/bbox_mAP': 0.6, 'coco/bbox_mAP_50': 0.7}),
            dict(set='haze', mode='restored', **{'coco/bbox_mAP': 0.7, 'coco/bbox_mAP_50': 0.8,
                                                 'restoration/input_PSNR': 12.0,
                                                 'restoration/PSNR': 18.5}),
            dict(set='rain', mode='raw', **{'coco/bbox_mAP': 0.795}),
            dict(set='rain', mode='restored', **{'coco/bbox_mAP': 0.7})]
    lines = bench.table(rows).splitlines()
    haze = next(line for line in lines if line.startswith('| haze'))
    assert '+50%' in haze and '12.00 → 18.50 dB' in haze
    rain = next(line for line in lines if line.startswith('| rain'))
    assert '(no loss)' in rain


@pytest.mark.parametrize('args, message', [
    (['--border', '-1'], '--border must be >= 0'),
    (['--modes', 'restored'], '--restorer-checkpoint is needed'),
    (['--jobs', '0'], '--jobs must be >= 1'),
])
def test_bad_arguments_are_named(bench, args, message, capsys):
    with pytest.raises(SystemExit):
        bench.main([str(DET_CONFIG), 'det.pth', *args])
    assert message in capsys.readouterr().err
