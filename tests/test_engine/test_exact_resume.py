"""Exact resume: stage 1 and stage 2 interrupted at iteration k and resumed end
bit-identical to an uninterrupted run (CPU, fixed seed, deterministic mode): weights,
optimiser state and logged losses."""
import json
import os
import shutil
import subprocess
import sys

import torch

from ..conftest import REPO_ROOT
from ..helpers import make_paired_folder, make_unpaired_folders

TOTAL, CUT = 4, 2


def _train(config, work, overrides, resume=None, max_iters=TOTAL):
    """tools/train.py, deterministic, a checkpoint and a log line every iteration."""
    cmd = [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work)]
    if resume:
        cmd += ['--resume', str(resume)]
    cmd += ['--cfg-options', f'train_cfg.max_iters={max_iters}', 'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.interval=1', 'default_hooks.checkpoint.max_keep_ckpts=10',
            'randomness.seed=0', 'randomness.deterministic=True',
            'train_dataloader.num_workers=0', *overrides]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _losses(work):
    out = {}
    for path in work.glob('*/vis_data/scalars.json'):
        for line in path.read_text().splitlines():
            rec = json.loads(line)
            if 'loss' in rec or any(k.startswith('gan.') for k in rec):
                out[rec['iter']] = {k: v for k, v in rec.items() if 'loss' in k}
    return out


def _assert_identical(straight, resumed):
    a = torch.load(straight / f'iter_{TOTAL}.pth', map_location='cpu', weights_only=False)
    b = torch.load(resumed / f'iter_{TOTAL}.pth', map_location='cpu', weights_only=False)
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for k in a['state_dict']:
        assert torch.equal(a['state_dict'][k], b['state_dict'][k]), k
    assert repr(a['optimizer']) == repr(b['optimizer'])
    la, lb = _losses(straight), _losses(resumed)
    for it in range(CUT + 1, TOTAL + 1):
        assert la[it] and la[it] == lb[it], it


def _resume_case(tmp_path, config, overrides):
    straight, cut = tmp_path / 'straight', tmp_path / 'cut'
    _train(config, straight, overrides)
    # the run "died" after iteration k: all that is left is its checkpoint of iteration k
    cut.mkdir()
    shutil.copy(straight / f'iter_{CUT}.pth', cut / f'iter_{CUT}.pth')
    _train(config, cut, overrides, resume=cut / f'iter_{CUT}.pth')
    _assert_identical(straight, cut)


def test_stage1_resume_is_exact(tmp_path):
    make_paired_folder(tmp_path / 'clean' / 'train', [(48, 56), (40, 44)])
    # the run validates once, at its end: on made pairs (a clean clone has no demo data)
    val = make_paired_folder(tmp_path / 'pairs', [(23, 31)], lq_dir='lq', gt_dir='gt',
                             lq_suffix='', gt_suffix='')
    overrides = [f'val_dataloader.{i}.dataset.data_root={val}' for i in range(5)]
    overrides += [f'train_dataloader.dataset.data_root={tmp_path}/clean/train',
                  'train_dataloader.batch_size=5',
                  'train_dataloader.dataset.pipeline.1.crop_size=(32,32)',
                  'model.generator.type=UniRemovalNetT', 'train_cfg.val_interval=100',
                  f'param_scheduler.T_max={TOTAL}']
    _resume_case(tmp_path, REPO_ROOT / 'configs' / 'uniremoval_stage1.py', overrides)


def test_stage2_resume_is_exact_with_both_optimisers(tmp_path):
    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.models import build_uniremoval_net
    torch.manual_seed(0)
    ckpt = tmp_path / 'stage1.pth'
    torch.save({'state_dict': {f'generator.{k}': v
                               for k, v in build_uniremoval_net('T').state_dict().items()}},
               ckpt)
    photos = make_unpaired_folders(tmp_path / 'unpaired')
    make_paired_folder(tmp_path / 'extra_clean', [(64, 80)], lq_dir='x', gt_dir='train')
    overrides = [f'model.init_checkpoint={ckpt}', 'model.generator.type=UniRemovalNetT',
                 'model.discriminator.base_channels=8',
                 f'train_dataloader.dataset.datasets.0.data_root={photos}',
                 f'train_dataloader.dataset.datasets.1.data_root={tmp_path}/extra_clean',
                 'train_dataloader.dataset.datasets.0.pipeline.1.crop_size=(40,40)',
                 'train_dataloader.dataset.datasets.1.pipeline.1.crop_size=(40,40)',
                 'train_cfg.val_interval=100', f'val_dataloader.dataset.data_root={photos}']
    _resume_case(tmp_path, REPO_ROOT / 'configs' / 'uniremoval_stage2.py', overrides)
