"""configs/uniremoval_stage2.py: starts from stage 1, trains on the train part of the
unpaired photos, tests no-reference quality on the held-out part and on DAWN."""
import json
import subprocess
import sys
from collections import Counter

import cv2
from mmengine.config import Config

from ..conftest import REPO_ROOT
from ..helpers import (make_paired_folder, make_unpaired_folders, perturbed_student,
                       save_stage1_checkpoint)

CONFIG = REPO_ROOT / 'configs' / 'uniremoval_stage2.py'


def test_defaults_use_real_photos_when_present_and_keep_dawn_out():
    cfg = Config.fromfile(str(CONFIG))
    real = cfg.train_dataloader.dataset.datasets[0]
    assert real.data_root[0].endswith('realdata/unpaired') and 'dawn_fog' in real.exclude
    assert cfg.model.init_checkpoint == 'work_dirs/uniremoval_stage1'
    assert set(cfg.optim_wrapper) >= {'generator', 'discriminator'}
    assert cfg.model.cgcl.embedding == 'stats'
    # train and validation leave the held-out files out; the test loaders use only them
    # and DAWN, which no training or validation loader names
    assert real.exclude_files == cfg.val_dataloader.dataset.exclude_files == cfg.test_files
    heldout, dawn = cfg.test_dataloader
    assert heldout.dataset.files == cfg.test_files and heldout.dataset.data_root == \
        cfg.real_unpaired
    assert dawn.dataset.data_root.endswith('detection/dawn_fog')
    assert dawn.dataset.split == 'dawn-acceptance'
    train_roots = str([cfg.train_dataloader, cfg.val_dataloader])
    assert 'detection' not in train_roots and 'dawn' not in train_roots.replace(
        "'dawn_fog', 'dawn'", '')
    assert [e[0]['prefix'] for e in cfg.test_evaluator] == ['heldout', 'dawn']


def test_the_split_is_by_file_disjoint_and_complete_on_the_real_photos(realdata):
    from uniremoval_mm.datasets import UnpairedFolderDataset
    cfg = Config.fromfile(str(CONFIG))
    root = str(realdata / 'unpaired')
    train = UnpairedFolderDataset(root, folders=cfg.folders, exclude_files=cfg.test_files)
    test = UnpairedFolderDataset(root, folders=cfg.folders, files=cfg.test_files)
    everything = UnpairedFolderDataset(root, folders=cfg.folders)
    paths = lambda ds: {ds.get_data_info(i)['img_path'] for i in range(len(ds))}  # noqa
    assert not paths(train) & paths(test) and paths(train) | paths(test) == paths(everything)
    kinds = lambda ds: Counter(ds.get_data_info(i)['degradation_type']  # noqa: E731
                               for i in range(len(ds)))
    assert kinds(train) == Counter(haze=15, rain=1, blur=3, mixed=11, clean=1)
    assert kinds(test) == Counter(haze=7, rain=1, blur=1, noise=1, mixed=6, clean=1)
    dawn = UnpairedFolderDataset(str(realdata / 'detection/dawn_fog'), folders=dict(
        images='dawn_fog'))
    assert len(dawn) == 300


def test_lambda_ablation_configs_are_deltas():
    for lam in (0.01, 0.1):
        cfg = Config.fromfile(str(CONFIG.parent / f'ablations/stage2_cpu_gan-cgcl_lambda{lam}.py'))
        assert cfg.model.cgcl.loss_weight == lam and cfg.work_dir.endswith(f'lambda{lam}')
        assert cfg.model.init_checkpoint == 'work_dirs/stage1_cpu_full'
    disc = Config.fromfile(str(CONFIG.parent / 'ablations/stage2_cpu_gan-cgcl-disc.py'))
    assert disc.model.cgcl.embedding == 'discriminator'


def test_stage2_trains_from_a_stage1_checkpoint_then_tests_without_references(tmp_path):
    import uniremoval_mm  # noqa: F401
    student = perturbed_student('T', std=0.01)
    stage1 = tmp_path / 'stage1'
    stage1.mkdir()
    save_stage1_checkpoint(student, stage1 / 'iter_7.pth')
    (stage1 / 'last_checkpoint').write_text(str(stage1 / 'iter_7.pth'))
    photos = make_unpaired_folders(tmp_path / 'unpaired')
    make_paired_folder(tmp_path / 'extra_clean', [(64, 80)], lq_dir='x', gt_dir='train')
    work = tmp_path / 'work'
    overrides = [
        f'model.init_checkpoint={stage1}', 'model.generator.type=UniRemovalNetT',
        'model.discriminator.base_channels=8',
        f'train_dataloader.dataset.datasets.0.data_root={photos}',
        f'train_dataloader.dataset.datasets.1.data_root={tmp_path}/extra_clean',
        'train_dataloader.num_workers=0', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        f'val_dataloader.dataset.data_root={photos}', 'default_hooks.checkpoint.interval=2',
        'default_hooks.logger.interval=1',
        'train_dataloader.dataset.datasets.0.pipeline.1.crop_size=(48,48)',
        'train_dataloader.dataset.datasets.1.pipeline.1.crop_size=(48,48)',
    ]
    run = [sys.executable, 'tools/train.py', str(CONFIG), '--work-dir', str(work),
           '--cfg-options', *overrides]
    proc = subprocess.run(run, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in
               next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    train = [r for r in records if 'gan.loss_g' in r]
    assert train and {'content.loss', 'identity.loss', 'cgcl.loss', 'gan.loss_d_real'} <= set(
        train[-1])
    val = next(r for r in records if 'hazy/NIQE_output' in r or 'haze/NIQE_output' in r)
    assert {'haze/dark_input', 'haze/dark_stage1', 'haze/dark_output'} <= set(val)
    # tools/test.py on the stage-2 checkpoint: input / stage 1 / stage 2 in one run, on a
    # held-out list of files and on a DAWN-like folder (stand-ins for the real ones)
    (photos.parent / 'dawn' / 'images').mkdir(parents=True)
    cv2.imwrite(str(photos.parent / 'dawn' / 'images' / 'fog.jpg'),
                cv2.imread(str(photos / 'hazy' / '0.png')))
    loader = ("dict(num_workers=0, batch_size=1, sampler=dict(type='DefaultSampler', "
              "shuffle=False), dataset=dict(type='UnpairedFolderDataset', data_root='{}', "
              "folders={}, files={}, pipeline={{{{_base_.test_pipeline}}}}))")
    test_cfg = tmp_path / 'stage2_test.py'
    test_cfg.write_text(
        f"_base_ = '{CONFIG}'\n"
        'test_dataloader = [' + loader.format(
            photos, "dict(hazy='haze', clean='clean')",
            "dict(hazy=['0.png'], clean=['0.png'])") + ', ' + loader.format(
                photos.parent / 'dawn', "dict(images='dawn_fog')", 'None') + ']\n')
    test = subprocess.run(
        [sys.executable, 'tools/test.py', str(test_cfg), str(work / 'iter_2.pth'),
         '--work-dir', str(tmp_path / 'test'), '--cfg-options', 'model.init_checkpoint=None',
         'model.generator.type=UniRemovalNetT', 'model.discriminator.base_channels=8'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    out = test.stdout + test.stderr
    assert test.returncode == 0, out[-3000:]
    assert 'heldout/clean/NIQE_stage1' in out and 'dawn/dawn_fog/dark_output' in out
    assert 'heldout/rain' not in out  # only the listed files


def test_the_real_fog_recipe_learns_from_the_calibration_pool_only():
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'uniremoval_stage2_real-fog.py'))
    fog, clean = cfg.train_dataloader.dataset.datasets
    assert fog.split == 'dawn-calibration-fit' and fog.data_root.endswith('dawn_fog/images')
    assert cfg.val_dataloader is None and cfg.val_cfg is None
    assert [d.dataset.split for d in cfg.test_dataloader] == ['dawn-acceptance']
    assert 'acceptance' not in str([cfg.train_dataloader, cfg.val_dataloader])
    assert cfg.model.priors.type == 'RealPhotoPriorLoss'
    assert cfg.model.content_highpass_sigma == 4.0
    for control in ('stage2_real-fog_no-priors.py', 'stage2_real-fog_old-haze.py'):
        other = Config.fromfile(str(REPO_ROOT / 'configs' / 'ablations' / control))
        changed = {k for k in cfg.model if cfg.model[k] != other.model.get(k)}
        assert changed == ({'priors'} if 'priors' in control else {'rehearsal'}), control
        assert other.train_dataloader == cfg.train_dataloader
