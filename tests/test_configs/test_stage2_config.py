"""configs/uniremoval_stage2.py: starts from stage 1, trains on unpaired photos, tests NR."""
import json
import subprocess
import sys

import cv2
import numpy as np
import torch
from mmengine.config import Config

from ..conftest import REPO_ROOT
from ..helpers import make_paired_folder

CONFIG = REPO_ROOT / 'configs' / 'uniremoval_stage2.py'
KINDS = ('hazy', 'rainy', 'blurry', 'noisy', 'mixed', 'clean')


def _unpaired(root, sizes=((200, 230), (97, 120))):
    rng = np.random.default_rng(0)
    for k, kind in enumerate(KINDS):
        (root / kind).mkdir(parents=True)
        for i, (h, w) in enumerate(sizes):
            img = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
            img = cv2.GaussianBlur(img, (0, 0), 3 + k)
            cv2.imwrite(str(root / kind / f'{i}.png'), img)
    return root


def test_defaults_use_real_photos_when_present_and_keep_dawn_out():
    cfg = Config.fromfile(str(CONFIG))
    real = cfg.train_dataloader.dataset.datasets[0]
    assert real.data_root[0].endswith('realdata/unpaired') and 'dawn_fog' in real.exclude
    assert cfg.model.init_checkpoint == 'work_dirs/uniremoval_stage1'
    assert set(cfg.optim_wrapper) >= {'generator', 'discriminator'}


def test_stage2_trains_from_a_stage1_checkpoint_then_tests_without_references(tmp_path):
    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.models import build_uniremoval_net
    torch.manual_seed(0)
    student = build_uniremoval_net('T')
    with torch.no_grad():
        for p in student.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    stage1 = tmp_path / 'stage1'
    stage1.mkdir()
    torch.save({'state_dict': {f'generator.{k}': v for k, v in student.state_dict().items()}},
               stage1 / 'iter_7.pth')
    (stage1 / 'last_checkpoint').write_text(str(stage1 / 'iter_7.pth'))
    photos = _unpaired(tmp_path / 'unpaired')
    make_paired_folder(tmp_path / 'extra_clean', [(64, 80)], lq_dir='x', gt_dir='train')
    work = tmp_path / 'work'
    overrides = [
        f'model.init_checkpoint={stage1}', 'model.generator.type=UniRemovalNetT',
        'model.discriminator.base_channels=8',
        f'train_dataloader.dataset.datasets.0.data_root={photos}',
        f'train_dataloader.dataset.datasets.1.data_root={tmp_path}/extra_clean',
        'train_dataloader.num_workers=0', 'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
        f'val_dataloader.dataset.data_root={photos}', 'default_hooks.checkpoint.interval=3',
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
    # tools/test.py on the stage-2 checkpoint: input / stage 1 / stage 2 in one run
    test = subprocess.run(
        [sys.executable, 'tools/test.py', str(CONFIG), str(work / 'iter_3.pth'), '--work-dir',
         str(tmp_path / 'test'), '--cfg-options', 'model.init_checkpoint=None',
         'model.generator.type=UniRemovalNetT', 'model.discriminator.base_channels=8',
         f'test_dataloader.dataset.data_root={photos}'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    assert test.returncode == 0, test.stdout[-3000:] + test.stderr[-3000:]
    assert 'clean/NIQE_stage1' in test.stdout + test.stderr
