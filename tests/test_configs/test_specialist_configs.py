"""configs/teachers: pre-training a specialist of our architecture with tools/train.py."""
import json
import subprocess
import sys

import pytest
from mmengine.config import Config

from ..conftest import REPO_ROOT
from ..helpers import make_paired_folder

CONFIGS = sorted((REPO_ROOT / 'configs' / 'teachers').glob('*.py'))


@pytest.mark.parametrize('path, kind', [(p, p.stem.split('_')[-1]) for p in CONFIGS],
                         ids=lambda v: getattr(v, 'stem', v))
def test_each_config_trains_one_degradation(path, kind):
    cfg = Config.fromfile(str(path))
    types = {'dehaze': ['haze'], 'deblur': ['blur']}[kind]
    assert cfg.train_dataloader.dataset.degradation_types == types
    assert cfg.val_dataloader.dataset.degradation_types == types
    size = path.stem.split('_')[0].split('-')[-1].upper()  # uniremoval-net-s_... -> S
    assert cfg.model.generator.type == f'UniRemovalNet{size}'
    # the learning-rate schedule ends where training does
    last = cfg.param_scheduler[-1] if isinstance(cfg.param_scheduler, list) else cfg.param_scheduler
    assert last.get('end', last.get('begin', 0) + last['T_max']) == cfg.train_cfg.max_iters


def test_specialist_trains_validates_and_loads_as_a_teacher(tmp_path):
    make_paired_folder(tmp_path / 'clean' / 'train', [(70, 80), (64, 90)])
    make_paired_folder(tmp_path / 'clean' / 'val', [(37, 41)], seed=1)
    overrides = [
        f'train_dataloader.dataset.data_root={tmp_path}/clean/train',
        f'val_dataloader.dataset.data_root={tmp_path}/clean/val',
        'model.generator.type=UniRemovalNetT', 'train_dataloader.batch_size=2',
        'train_dataloader.num_workers=0', 'train_dataloader.dataset.pipeline.1.crop_size=(32,32)',
        'train_cfg.max_iters=3', 'train_cfg.val_interval=3', 'param_scheduler.T_max=3',
        'default_hooks.checkpoint.interval=3', f'default_hooks.checkpoint.out_dir={tmp_path}',
    ]
    work = tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, 'tools/train.py', 'configs/teachers/uniremoval-net-b_specialist_dehaze.py',
         '--work-dir', str(work), '--cfg-options', *overrides], cwd=REPO_ROOT,
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = [json.loads(line) for line in
               next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    assert any('PSNR' in r for r in records)
    # the trained generator is a teacher: FrozenTeacher reads mmengine's checkpoint
    import torch

    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.models import FrozenTeacher
    teacher = FrozenTeacher(dict(type='UniRemovalNetT'), str(work / 'iter_3.pth'))
    out = teacher(torch.rand(1, 3, 21, 19))
    assert out.shape == (1, 3, 21, 19)
