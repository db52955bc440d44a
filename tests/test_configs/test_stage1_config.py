"""configs/uniremoval_stage1.py: builds with the real teachers (or the fallbacks), trains."""
import json
import subprocess
import sys

from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..conftest import REPO_ROOT, SHARED
from ..helpers import make_paired_folder

CONFIG = REPO_ROOT / 'configs' / 'uniremoval_stage1.py'


def test_stage1_builds_with_real_teachers_or_documented_fallbacks(monkeypatch):
    from mmagic.registry import MODELS

    import uniremoval_mm  # noqa: F401
    monkeypatch.chdir(REPO_ROOT)
    cfg = Config.fromfile(str(CONFIG))
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    have_weights = (SHARED / 'realdata' / 'weights' / 'aodnet').is_dir()
    haze = type(model.teachers['haze'].model).__name__
    assert haze == ('AODNet' if have_weights else 'DarkChannelPrior')
    assert ('rain' in model.teachers) == have_weights
    assert 'blur' not in model.teachers  # ground truth only, unless a specialist is given
    assert len(cfg.val_dataloader) == len(cfg.val_evaluator) == 5


def test_stage1_trains_and_validates_per_type(tmp_path):
    make_paired_folder(tmp_path / 'clean' / 'train', [(48, 56), (40, 44)])
    overrides = [
        f'train_dataloader.dataset.data_root={tmp_path}/clean/train',
        'train_dataloader.batch_size=5', 'train_dataloader.num_workers=0',
        'train_dataloader.dataset.pipeline.1.crop_size=(32,32)',
        'model.generator.type=UniRemovalNetT',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.T_max=2',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
    ]
    for i, kind in enumerate(('haze', 'rain', 'blur', 'noise', 'mixed')):
        root = make_paired_folder(tmp_path / 'pairs' / kind, [(23, 31)], seed=i, lq_dir='lq',
                                  gt_dir='gt', lq_suffix='', gt_suffix='')
        overrides.append(f'val_dataloader.{i}.dataset.data_root={root}')
    work = tmp_path / 'work'
    proc = subprocess.run([sys.executable, 'tools/train.py', str(CONFIG), '--work-dir', str(work),
                           '--cfg-options', *overrides], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (work / 'iter_2.pth').is_file()  # the checkpoint sits with the logs, in --work-dir
    for kind in ('haze', 'rain', 'blur', 'noise', 'mixed'):  # the pictures of validation
        assert (work / 'vis_grids' / 'iter_2' / f'{kind}.jpg').is_file(), kind
    records = [json.loads(line) for line in
               next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    train = [r for r in records if 'igcl.loss' in r]
    assert train and 'sup.loss_pix' in train[0]
    val = next(r for r in records if 'haze/PSNR' in r)
    for kind in ('haze', 'rain', 'blur', 'noise', 'mixed'):
        assert 0 < val[f'{kind}/PSNR'] < 100 and 0 < val[f'{kind}/SSIM'] <= 1


def test_size_variants_only_change_the_student():
    base = Config.fromfile(str(CONFIG))
    for size in ('t', 'b'):
        cfg = Config.fromfile(str(REPO_ROOT / 'configs' / f'uniremoval_stage1_{size}.py'))
        assert cfg.model.generator.type == f'UniRemovalNet{size.upper()}'
        assert cfg.model.teachers == base.model.teachers
        assert cfg.work_dir.endswith(f'uniremoval_stage1_{size}')
