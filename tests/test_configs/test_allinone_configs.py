"""configs/allinone/*: the all-in-one 3-task and 5-task paper configs.

Every config loads and states its schedule, batch and AMP as its name says; every one
builds its datasets on fixture layouts made here (tiny 40x48 PNGs in the layouts of
``tools/dataset_converters/prepare_allinone.py``, data roots re-rooted with
``merge_from_dict``-style edits) and its model. One 3-task and one 5-task stage-1 config
train one iteration and validate once on CPU at 32-px crops.

On CPU the AMP wrapper cannot be built (mmengine's ``AmpOptimWrapper`` needs CUDA): the
training test replaces ``optim_wrapper`` with ``type='NonFiniteGuardOptimWrapper'`` (the
same optimiser, without ``loss_scale`` / ``dtype`` / ``max_consecutive_overflows``); the
configs themselves are checked as written (wrapper type and dtype).
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..conftest import REPO_ROOT

CONFIG_DIR = REPO_ROOT / 'configs' / 'allinone'
CONFIGS = sorted(p.name for p in CONFIG_DIR.glob('*.py'))
TYPES = {'3task': ['noise', 'rain', 'haze'],
         '5task': ['noise', 'rain', 'haze', 'blur', 'lowlight']}
PREFIXES = {'3task': ['cbsd68-sigma15', 'cbsd68-sigma25', 'cbsd68-sigma50', 'rain100l',
                      'sots-outdoor'],
            '5task': ['cbsd68-sigma25', 'rain100l', 'sots-outdoor', 'gopro', 'lol']}
KINDS = {'cbsd68-sigma15': 'noise', 'cbsd68-sigma25': 'noise', 'cbsd68-sigma50': 'noise',
         'rain100l': 'rain', 'sots-outdoor': 'haze', 'gopro': 'blur', 'lol': 'lowlight'}
SIZE = (40, 48)  # (H, W) of the fixture images


def _name(config):
    m = re.fullmatch(r'uniremoval-s_stage(\d)_(\dtask)_(\d)xb(\d+)-(\d+)k\.py', config)
    assert m, f'{config}: not named <model>_stage<N>_<setting>_<G>xb<B>-<iters>k.py'
    stage, setting, gpus, batch, kiters = m.groups()
    return int(stage), setting, int(gpus), int(batch), int(kiters) * 1000


def _image(path: Path, rng, size=SIZE, grey=False):
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = size
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3)).astype(np.uint8), (0, 0), 2)
    cv2.imwrite(str(path), img[..., 0] if grey else img)


def _pairs(folder: Path, rng, lq_names, gt_names):
    for lq, gt in zip(lq_names, gt_names):
        _image(folder / 'lq' / f'{lq}.png', rng)
        if not (folder / 'gt' / f'{gt}.png').exists():
            _image(folder / 'gt' / f'{gt}.png', rng)


def make_layouts(root: Path) -> Path:
    """``root/data/allinone/<set>/<split>/{lq,gt}/`` (docs/user_guides/data.md), the clean-only
    training sets, real unpaired photos and the demo's clean photos, all tiny."""
    rng = np.random.default_rng(0)
    data = root / 'data' / 'allinone'
    for i in range(2):
        _image(data / 'bsd400' / 'train' / 'gt' / f'test_{i:03d}.png', rng, grey=True)
        _image(data / 'wed' / 'train' / 'gt' / f'{i:05d}.png', rng)
    same = ['001', '002']
    for name in ('rain100l', 'gopro', 'lol'):
        for split in ('train', 'test'):
            _pairs(data / name / split, rng, same, same)
    for sigma in (15, 25, 50):
        _pairs(data / f'cbsd68-sigma{sigma}' / 'test', rng, same, same)
    hazy, clear = ['0001_0.8_0.2', '0001_0.9_0.1', '0002_0.8_0.2'], ['0001', '0001', '0002']
    _pairs(data / 'reside-ots' / 'train', rng, hazy, clear)
    _pairs(data / 'sots-outdoor' / 'test', rng, hazy, clear)
    for kind in ('hazy', 'rainy', 'noisy', 'blurry', 'lowlight', 'clean'):  # stage 2: 96 px
        _image(data / 'real_unpaired' / kind / 'a.png', rng, size=(101, 103))
    _image(root / 'data' / 'demo' / 'clean' / 'train' / 'c.png', rng, size=(101, 103))
    return root


@pytest.fixture(scope='module')
def layouts(tmp_path_factory) -> Path:
    return make_layouts(tmp_path_factory.mktemp('allinone'))


def rerooted(cfg: Config, root: Path, crop: int = 32) -> Config:
    """The config with every ``data/...`` path under ``root`` and the all-in-one training
    crops at ``crop`` px (stage 2's 96-px crops of the real photos are kept)."""

    def visit(node):
        if isinstance(node, str) and node.startswith('data/'):
            return f'{root}/{node}'
        if isinstance(node, list):
            return [visit(v) for v in node]
        if isinstance(node, dict):
            node = {k: visit(v) for k, v in node.items()}
            if node.get('type') == 'PairedRandomCrop':
                node['gt_patch_size'] = crop
            if node.get('type') == 'Crop' and tuple(node['crop_size']) == (128, 128):
                node['crop_size'] = (crop, crop)
            return node
        return node

    cfg = Config(cfg.to_dict())
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key] = visit(cfg.to_dict()[key])
    return cfg


def _build(cfg_dataset):
    from mmagic.registry import DATASETS

    import uniremoval_mm  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmagic'):
        return DATASETS.build(cfg_dataset)


def _loaders(node):
    return node if isinstance(node, list) else [node]


@pytest.mark.parametrize('config', CONFIGS)
def test_config_loads_and_is_what_its_name_says(config):
    stage, setting, gpus, batch, iters = _name(config)
    cfg = Config.fromfile(str(CONFIG_DIR / config))
    assert cfg.work_dir == f'./work_dirs/{config[:-3]}'
    assert cfg.train_dataloader.batch_size == batch and cfg.train_cfg.max_iters == iters
    assert cfg.auto_scale_lr.base_batch_size == gpus * batch
    assert list(cfg.model.degradation_types) == TYPES[setting]
    wrappers = [cfg.optim_wrapper] if stage == 1 else [cfg.optim_wrapper.generator,
                                                       cfg.optim_wrapper.discriminator]
    for w in wrappers:  # AMP as written: fp16 with a dynamic scale, the guard kept
        assert w.type == 'NonFiniteGuardAmpOptimWrapper' and w.dtype == 'float16'
        assert w.loss_scale == 'dynamic' and w.max_skips > 0
    if gpus > 1 and stage == 2:  # own train_step: each trainable part wrapped apart
        assert cfg.model_wrapper_cfg.type == 'MMSeparateDistributedDataParallel'
    # test sets: one evaluator per set, prefixed with the set; Y for Rain100L only
    tests = [d.dataset.data_root for d in cfg.test_dataloader]
    assert tests == [f'data/allinone/{p}/test' for p in PREFIXES[setting]]
    for loader, evaluator, prefix in zip(cfg.test_dataloader, cfg.test_evaluator,
                                         PREFIXES[setting]):
        assert [m.type for m in evaluator.metrics] == ['PSNR', 'SSIM']
        assert all(m.prefix == prefix for m in evaluator.metrics)
        assert all(m.convert_to == ('Y' if prefix == 'rain100l' else None)
                   for m in evaluator.metrics)
        assert loader.dataset.match == ('reside' if prefix == 'sots-outdoor' else 'same')
        assert loader.dataset.degradation_type == KINDS[prefix]
    if stage == 1:
        assert cfg.val_dataloader == cfg.test_dataloader
        assert cfg.model.distill_reliability == 'sample' and cfg.model.igcl.type == 'IGCLLoss'
        assert set(cfg.model.teachers) == {'haze', 'rain', 'noise'}  # the others: GT only
        assert cfg.default_hooks.checkpoint.save_best is None  # none chosen on test sets
        train = cfg.train_dataloader.dataset.datasets
        noise = [d for d in train if d.type == 'SyntheticPairedDataset']
        assert [d.data_root for d in noise] == ['data/allinone/bsd400/train/gt',
                                                'data/allinone/wed/train/gt']
        add = [t for t in noise[0].pipeline if t.type == 'AddNoise'][0]
        assert add.sigma_choices == (15, 25, 50) and add.kinds == ('gaussian', )
    else:
        assert cfg.model.init_checkpoint.startswith('work_dirs/uniremoval-s_stage1_'
                                                    f'{setting}_{gpus}xb8-400k')
        assert cfg.model.cgcl.num_degraded_clusters == len(TYPES[setting])


@pytest.mark.parametrize('config', CONFIGS)
def test_config_builds_its_data_and_model(config, layouts):
    from mmagic.registry import MODELS
    from mmengine.dataset import InfiniteSampler

    from uniremoval_mm.datasets import DegradationBalancedBatchSampler
    stage, setting, *_ = _name(config)
    cfg = rerooted(Config.fromfile(str(CONFIG_DIR / config)), layouts)
    train = _build(cfg.train_dataloader.dataset)
    types = TYPES[setting] + ([] if stage == 1 else ['clean'])
    seen = {train.get_data_info(i)['degradation_type'] for i in range(len(train))}
    assert seen == set(types)
    if stage == 1:  # every training sample: a 32-px pair with its type
        for i in range(len(train)):
            sample = train[i]
            assert tuple(sample['inputs'].shape) == (3, 32, 32)
            assert tuple(sample['data_samples'].gt_img.shape) == (3, 32, 32)
            assert sample['data_samples'].metainfo['degradation_type'] in types
        batch = next(iter(DegradationBalancedBatchSampler(
            InfiniteSampler(train, seed=0), batch_size=len(types))))
        assert {train.get_data_info(i)['degradation_type'] for i in batch} == set(types)
    for loader in _loaders(cfg.val_dataloader) + _loaders(cfg.test_dataloader):
        dataset = _build(loader.dataset)
        assert len(dataset) >= 1
        dataset[0]
    model_cfg = cfg.model.to_dict()
    if stage == 2:
        model_cfg['init_checkpoint'] = None  # tests only: no stage-1 run here
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(model_cfg)
    assert tuple(model.degradation_types) == tuple(TYPES[setting])


@pytest.mark.parametrize('config', ['uniremoval-s_stage1_3task_1xb8-400k.py',
                                    'uniremoval-s_stage1_5task_1xb8-400k.py'])
def test_stage1_trains_one_iteration_and_validates_on_cpu(config, layouts, tmp_path):
    setting = _name(config)[1]
    cfg = rerooted(Config.fromfile(str(CONFIG_DIR / config)), layouts)
    cfg.merge_from_dict({
        'model.generator.type': 'UniRemovalNetT',  # the smallest student
        'train_dataloader.batch_size': len(TYPES[setting]),  # one of each type
        'train_dataloader.num_workers': 0, 'train_dataloader.persistent_workers': False,
        'train_cfg.max_iters': 1, 'train_cfg.val_interval': 1, 'param_scheduler.T_max': 1,
        'default_hooks.checkpoint.interval': 1, 'default_hooks.logger.interval': 1,
    })
    for loader in cfg.val_dataloader + cfg.test_dataloader:
        loader.num_workers = 0
    # CPU: AMP off (mmengine's AmpOptimWrapper needs CUDA), the same optimiser
    cfg.optim_wrapper = dict(type='NonFiniteGuardOptimWrapper', max_skips=50,
                             optimizer=cfg.optim_wrapper.optimizer)
    path = tmp_path / 'cpu.py'
    cfg.dump(str(path))
    work = tmp_path / 'work'
    proc = subprocess.run([sys.executable, 'tools/train.py', str(path), '--work-dir', str(work)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (work / 'iter_1.pth').is_file()
    records = [json.loads(line) for line in
               next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    train = [r for r in records if 'igcl.loss' in r]
    assert train and np.isfinite(train[0]['loss'])
    val = next(r for r in records if f'{PREFIXES[setting][0]}/PSNR' in r)
    for prefix in PREFIXES[setting]:
        assert 0 < val[f'{prefix}/PSNR'] < 100 and 0 < val[f'{prefix}/SSIM'] <= 1
