"""configs/students: deltas on mmagic's NAFNet-SIDD config with our student inside."""
import json
import subprocess
import sys

import pytest
from mmengine.config import Config

from ..conftest import REPO_ROOT
from ..helpers import make_paired_folder

CONFIGS = sorted((REPO_ROOT / 'configs' / 'students').glob('*.py'))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds_our_student_inside_mmagic(path):
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope

    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.models import SIZES, UniRemovalNet
    cfg = Config.fromfile(str(path))
    assert cfg.custom_imports.imports == ['uniremoval_mm']
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
    assert isinstance(model.generator, UniRemovalNet)
    size = path.stem[len('uniremoval-net-')].upper()  # uniremoval-net-s_... -> 'S'
    assert model.generator.width == SIZES[size]['width']


def test_train_runs_and_validates_psnr(tmp_path):
    make_paired_folder(tmp_path / 'train', [(80, 96), (72, 70), (64, 90)])
    make_paired_folder(tmp_path / 'val', [(37, 53), (41, 29)], seed=1)
    config = REPO_ROOT / 'configs/students/uniremoval-net-t_1xb8-lr1e-3-400k_sidd.py'
    overrides = [
        f'train_dataloader.dataset.data_root={tmp_path / "train"}',
        f'val_dataloader.dataset.data_root={tmp_path / "val"}',
        'train_dataloader.batch_size=2', 'train_dataloader.num_workers=0',
        'val_dataloader.num_workers=0', 'train_dataloader.dataset.pipeline.6.gt_patch_size=32',
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.T_max=2',
        'default_hooks.checkpoint.interval=2', f'default_hooks.checkpoint.out_dir={tmp_path}',
        'default_hooks.logger.interval=1',
    ]
    work_dir = tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir),
         '--cfg-options', *overrides], cwd=REPO_ROOT, capture_output=True, text=True,
        timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert list(tmp_path.glob('work/iter_2.pth'))
    scalars = list(work_dir.glob('*/vis_data/scalars.json'))
    records = [json.loads(line) for line in scalars[0].read_text().splitlines()]
    val = [r for r in records if any(k.endswith('PSNR') for k in r)]
    assert val, records
    psnr = next(v for k, v in val[-1].items() if k.endswith('PSNR'))
    assert 5 < psnr < 60  # a real PSNR on the made pairs, not a placeholder
