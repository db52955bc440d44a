"""uniremoval_mm.apis.adaptation.detector_data: a detector's own COCO data, checked, and
every problem one line naming the file."""
import json

import pytest

from uniremoval_mm.apis.adaptation import AdaptationError, detector_data
from ..helpers import CLASSES, make_tiny_coco, tiny_detector, tiny_faster_rcnn_config

ENOUGH = dict(train=4, val=4)  # make_tiny_coco writes 4 images, each with boxes


@pytest.fixture()
def det(tmp_path):
    """A tiny Faster R-CNN config over tiny COCO data; ``write(extra)`` appends lines."""
    ann = make_tiny_coco(tmp_path / 'data')
    config = tmp_path / 'det.py'
    base = tiny_faster_rcnn_config(tmp_path / 'data')

    def write(extra: str = '') -> str:
        config.write_text(base + extra)
        return str(config)

    write()
    return config, ann, write


def _error(config, **kwargs) -> str:
    with pytest.raises(AdaptationError) as info:
        detector_data(config, **kwargs)
    message = str(info.value)
    assert '\n' not in message
    return message


def test_usable_data_is_described(det, tmp_path):
    config, ann, _ = det
    data = detector_data(config, ENOUGH)
    assert data.classes == CLASSES and data.config == config
    for split, name in ((data.train, 'train'), (data.val, 'val')):
        assert split.name == name and split.ann_file == ann
        assert split.img_dir == tmp_path / 'data' / 'images'
        assert split.classes == CLASSES and split.num_images == split.num_annotated == 4


def test_a_wrapped_train_set_is_unwrapped(det):
    config, _, write = det
    write('train_dataloader = dict(dataset=dict(_delete_=True, type="RepeatDataset", '
          'times=2, dataset=dataset))\n')
    assert detector_data(config, ENOUGH).train.num_images == 4


def test_missing_config_and_data(det, tmp_path):
    config, ann, write = det
    assert _error(tmp_path / 'nope.py') == f'{tmp_path / "nope.py"}: detector config not found'
    write('val_dataloader = None\n')
    assert _error(config, min_images=ENOUGH) == (
        f"{config}: no val_dataloader.dataset: the detector's own val data is needed "
        '(COCO-style)')
    write('train_dataloader["dataset"] = dict(dataset, ann_file="missing.json")\n')
    assert _error(config, min_images=ENOUGH).startswith(
        f'{tmp_path / "data" / "missing.json"}: not found (train_dataloader.dataset.ann_file '
        f'of {config})')
    write('train_dataloader["dataset"] = dict(dataset, data_prefix=dict(img="nowhere/"))\n')
    assert _error(config, min_images=ENOUGH).startswith(
        f'{tmp_path / "data" / "nowhere"}: image folder not found')
    (tmp_path / 'data' / 'images' / 'img_002.png').unlink()
    write()
    assert _error(config, min_images=ENOUGH) == (
        f'{tmp_path / "data" / "images"}: 1 of the 4 images of ann.json are missing '
        '(first: img_002.png)')


def test_not_coco(det, tmp_path):
    config, ann, write = det
    write('train_dataloader = dict(dataset=dict(_delete_=True, type="VOCDataset", '
          'data_root="x", ann_file="a.txt"))\n')
    assert "train_dataloader.dataset is 'VOCDataset', not a COCO-style dataset" in _error(config)
    write()
    ann.write_text('{"images": [')
    assert _error(config).startswith(f'{ann}: not valid JSON')
    ann.write_text(json.dumps(dict(images=[], annotations=[])))
    assert _error(config) == (f'{ann}: not COCO annotations (needs lists images, annotations '
                              'and categories)')


def test_class_mismatch(det):
    config, ann, write = det
    write("metainfo = dict(classes=('box', 'ball'))\n"
          'train_dataloader["dataset"] = dict(dataset, metainfo=metainfo)\n'
          'val_dataloader["dataset"] = dict(dataset, metainfo=metainfo)\n')
    assert _error(config, min_images=ENOUGH) == (
        f"{ann}: its categories do not match the detector's classes (not in the detector: "
        "['disk']; not in the file: ['ball']; the detector's are "
        f'train_dataloader.dataset.metainfo.classes of {config})')
    write("val_dataloader['dataset'] = dict(dataset, metainfo=dict(classes=('box', )))\n")
    assert 'train and val datasets name different classes' in _error(config, min_images=ENOUGH)
    write('model = dict(roi_head=dict(bbox_head=dict(num_classes=3)))\n')
    assert _error(config, min_images=ENOUGH) == (
        f"{config}: model num_classes 3 but 2 classes in the data (['box', 'disk'])")


def test_too_few_images(det):
    config, ann, _ = det
    assert _error(config, min_images=dict(train=5)) == (
        f'{ann}: 4 train images with boxes, at least 5 needed to adapt on')
    coco = json.loads(ann.read_text())
    coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] != 1]
    ann.write_text(json.dumps(coco))
    assert _error(config, min_images=dict(train=3, val=4)) == (
        f'{ann}: 3 val images with boxes, at least 4 needed to adapt on')


def _tree(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob('*')}


def test_degraded_sets_are_laid_out_for_the_benchmark_and_resume(det, tmp_path):
    from uniremoval_mm.apis.adaptation import make_degraded_sets
    from uniremoval_mm.evaluation.detection_benchmark import plan_runs
    config, ann, _ = det
    data = detector_data(config, ENOUGH)
    source = _tree(tmp_path / 'data')
    out = tmp_path / 'adapt'
    sets = make_degraded_sets(data, out, kinds=('haze', 'noise'), seed=3)
    assert (sets.written, sets.resumed) == (16, 0)  # 4 images x 2 splits x 2 kinds
    bench = sets.bench_root
    assert bench == out / 'bench' and (bench / 'val').resolve() == data.val.img_dir
    assert json.loads((bench / 'val.json').read_text()) == json.loads(ann.read_text())
    coco = json.loads(ann.read_text())
    for kind in ('haze', 'noise'):
        degraded = json.loads((bench / kind / 'val.json').read_text())
        assert degraded['annotations'] == coco['annotations']  # the same boxes
        assert len(list((bench / kind / 'images').iterdir())) == 4
        assert sets.train[kind] == out / 'train' / kind / 'ann.json'
    assert _tree(tmp_path / 'data') == source  # the source is never written
    # the benchmark finds every set it needs there
    runs = plan_runs(config, 'det.pth', bench, ['clean', 'haze', 'noise'], ['raw'], {}, {},
                     None, tmp_path / 'bench_work')
    assert [r.set for r in runs] == ['clean', 'haze', 'noise']
    # again: every image is kept, nothing is degraded twice
    again = make_degraded_sets(data, out, kinds=('haze', 'noise'), seed=3)
    assert (again.written, again.resumed) == (0, 16)
    with pytest.raises(AdaptationError, match="made with .*seed': 3.*not .*seed': 4"):
        make_degraded_sets(data, out, kinds=('haze', ), seed=4)
    with pytest.raises(AdaptationError, match="unknown degradation 'fog'"):
        make_degraded_sets(data, out, kinds=('fog', ))
    for inside in (tmp_path / 'data' / 'images' / 'x', tmp_path):
        with pytest.raises(AdaptationError, match='refusing to write into'):
            make_degraded_sets(data, inside, kinds=('haze', ))
    assert _tree(tmp_path / 'data') == source


@pytest.fixture()
def small_detector(tmp_path):
    import uniremoval_mm  # noqa: F401  (registries)
    return tiny_detector(tmp_path)


def test_detector_taps_are_every_backbone_and_neck_output(small_detector, tmp_path):
    from uniremoval_mm.apis.adaptation import detector_taps
    config, checkpoint = small_detector
    taps, weights = detector_taps(config, str(checkpoint))
    assert taps == ('backbone.0', 'backbone.1', 'backbone.2', 'backbone.3',
                    'neck.0', 'neck.1', 'neck.2', 'neck.3', 'neck.4')
    assert weights == (0.5, ) * 4 + (1.0, ) * 5
    bad = tmp_path / 'bad.pth'
    bad.write_bytes(b'not a checkpoint')
    with pytest.raises(AdaptationError, match='bad.pth'):
        detector_taps(config, str(bad))


def test_frozen_tuning_config_trains_against_the_frozen_detector(small_detector, tmp_path):
    """The config runs through tools/train.py (2 iterations) and the detector's weights
    are not in what it trains."""
    import os
    import subprocess
    import sys

    import torch

    from uniremoval_mm.apis.adaptation import frozen_tuning_config
    from ..conftest import REPO_ROOT
    config, checkpoint = small_detector
    data = detector_data(config, ENOUGH)
    work = tmp_path / 'tune'
    text = frozen_tuning_config(data, str(checkpoint), work, max_iters=2, seed=1)
    assert f"data_root={str(data.train.img_dir)!r}" in text
    path = tmp_path / 'tune.py'
    path.write_text(text)
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(path), '--cfg-options',
         'train_dataloader.batch_size=5', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False', 'default_hooks.logger.interval=1'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    state = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert (work / 'last_checkpoint').read_text().strip().endswith('iter_2.pth')
    assert any(k.startswith('generator.') for k in state['state_dict'])
    log = proc.stdout + proc.stderr
    assert 'igcl.loss: ' in log and 'igcl.loss_identity: ' in log  # detector views, identity
    # the frozen detector is no part of what trains and is saved
    assert not any(k.startswith('igcl.extractor.') for k in state['state_dict'])
    with pytest.raises(AdaptationError, match='max_iters must be an int >= 1'):
        frozen_tuning_config(data, str(checkpoint), work, max_iters=0,
                             taps=(('neck.0', ), (1.0, )))


def test_seconds_per_iteration_times_a_short_run(small_detector, tmp_path):
    from uniremoval_mm.apis.adaptation import seconds_per_iteration
    config, checkpoint = small_detector
    work = tmp_path / 'timing'
    work.mkdir()
    (work / 'iter_9.pth').write_bytes(b'stale')  # an earlier timing is never resumed
    rate = seconds_per_iteration(detector_data(config, ENOUGH), str(checkpoint), work,
                                 iters=3)
    assert 0 < rate < 120
    assert not list(work.glob('*.pth'))  # no checkpoints kept
    assert json.loads((work / 'progress.json').read_text())['done'] == 3


def test_joint_tuning_config_degrades_after_loading_and_names_its_errors(det, tmp_path):
    from mmengine.config import Config

    from uniremoval_mm.apis.adaptation import JOINT_LR_FACTOR, joint_tuning_config
    config, _, write = det
    write('train_dataloader = dict(dataset=dict(_delete_=True, type="RepeatDataset", '
          'times=2, dataset=dataset))\n')
    data = detector_data(config, ENOUGH)
    path = tmp_path / 'joint.py'
    path.write_text(joint_tuning_config(data, 'det.pth', tmp_path / 'w', epochs=3, seed=2))
    cfg = Config.fromfile(str(path))
    inner = cfg.train_dataloader.dataset
    assert inner.type == 'RepeatDataset'  # the wrapper kept, its set's pipeline degraded
    assert [t['type'] for t in inner.dataset.pipeline][2] == 'AddMixedDegradation'
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(0.002 * JOINT_LR_FACTOR)
    warmup, cosine = cfg.param_scheduler
    assert warmup.end == 2 and cosine.T_max == 2  # one epoch: 4 images, batch 2
    assert cfg.train_cfg.max_epochs == 3 and cfg.randomness.seed == 2
    assert cfg.load_from.endswith('det.pth')
    with pytest.raises(AdaptationError, match='epochs must be an int >= 1'):
        joint_tuning_config(data, 'det.pth', tmp_path / 'w', epochs=0)
    path.write_text(joint_tuning_config(data, 'det.pth', tmp_path / 'w', batch_size=1))
    cfg = Config.fromfile(str(path))
    assert cfg.train_dataloader.batch_size == 1 and cfg.param_scheduler[0].end == 4
    with pytest.raises(AdaptationError, match='batch_size must be an int >= 1'):
        joint_tuning_config(data, 'det.pth', tmp_path / 'w', batch_size=0)
    write('train_dataloader["dataset"] = dict(dataset, '
          'pipeline=[dict(type="LoadImageFromFile")])\n')
    with pytest.raises(AdaptationError, match='training pipeline has no LoadAnnotations'):
        joint_tuning_config(detector_data(config, ENOUGH), 'det.pth', tmp_path / 'w')


def test_relative_data_paths_are_taken_from_the_working_folder(det, tmp_path, monkeypatch):
    config, _, write = det
    write("train_dataloader['dataset'] = dict(dataset, data_root='data/')\n"
          "val_dataloader['dataset'] = dict(dataset, data_root='data/')\n")
    monkeypatch.chdir(tmp_path)
    data = detector_data(config, ENOUGH)
    assert data.train.ann_file == tmp_path / 'data' / 'ann.json'  # absolute from here on
    assert data.val.img_dir == tmp_path / 'data' / 'images'
