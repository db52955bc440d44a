"""tools/train.py and tools/test.py, run as a user runs them, on a tiny COCO set."""
import pickle
import subprocess
import sys

import pytest

from ..conftest import REPO_ROOT
from ..helpers import make_tiny_coco, tiny_faster_rcnn_config


def _run(*args, expect_ok=True):
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=600)
    if expect_ok:
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp('cli')
    make_tiny_coco(root / 'data')
    config = root / 'tiny_faster_rcnn.py'
    config.write_text(tiny_faster_rcnn_config(root / 'data', max_iters=2))
    work_dir = root / 'work'
    _run('tools/train.py', str(config), '--work-dir', str(work_dir))
    return config, work_dir


def test_train_writes_checkpoints_and_validates(trained):
    _, work_dir = trained
    assert (work_dir / 'iter_1.pth').is_file() and (work_dir / 'iter_2.pth').is_file()
    assert (work_dir / 'last_checkpoint').read_text().strip().endswith('iter_2.pth')
    logs = list(work_dir.glob('*/vis_data/scalars.json'))
    assert logs and 'coco/bbox_mAP' in logs[0].read_text()


def test_resume_continues_from_the_last_checkpoint(trained, tmp_path):
    config, work_dir = trained
    resumed = tmp_path / 'resumed'
    proc = _run('tools/train.py', str(config), '--work-dir', str(resumed),
                '--resume', str(work_dir / 'iter_2.pth'),
                '--cfg-options', 'train_cfg.max_iters=3', 'train_cfg.val_interval=3')
    assert 'resumed epoch: 0, iter: 2' in proc.stdout + proc.stderr
    assert (resumed / 'iter_3.pth').is_file()
    assert not (resumed / 'iter_1.pth').exists()


def test_auto_resume_passes_over_a_truncated_latest_checkpoint(trained, tmp_path):
    """As a kill during torch.save leaves it: the latest iter_N.pth cut short. --resume
    says so and resumes from the one before; with none readable, it stops in one line."""
    import os
    _, work_dir = trained
    config, work = trained[0], tmp_path / 'crashed'
    work.mkdir()
    os.link(work_dir / 'iter_1.pth', work / 'iter_1.pth')  # only read, never written
    whole = (work_dir / 'iter_2.pth').read_bytes()
    (work / 'iter_2.pth').write_bytes(whole[:len(whole) // 3])
    (work / 'last_checkpoint').write_text(str(work / 'iter_2.pth'))
    proc = _run('tools/train.py', str(config), '--work-dir', str(work), '--resume',
                '--cfg-options', 'train_cfg.max_iters=3', 'train_cfg.val_interval=3')
    log = proc.stdout + proc.stderr
    assert f'{work / "iter_2.pth"} is unreadable (truncated' in log
    assert f'resuming from {work / "iter_1.pth"}, the newest readable checkpoint' in log
    assert 'resumed epoch: 0, iter: 1' in log
    assert (work / 'iter_3.pth').is_file() and not list(work.glob('.*.part'))

    lost = tmp_path / 'lost'
    lost.mkdir()
    (lost / 'iter_2.pth').write_bytes(whole[:1000])
    (lost / 'last_checkpoint').write_text(str(lost / 'iter_2.pth'))
    proc = _run('tools/train.py', str(config), '--work-dir', str(lost), '--resume',
                expect_ok=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip() == (
        f'train.py: error: {lost / "iter_2.pth"}: cannot resume: truncated: the zip archive '
        f'has no central directory (a save cut short?), and {lost} holds no other readable '
        'iter_N.pth / epoch_N.pth')


def test_test_evaluates_dumps_and_never_overwrites(trained, tmp_path):
    config, work_dir = trained
    out = tmp_path / 'preds.pkl'
    ckpt = str(work_dir / 'iter_2.pth')
    proc = _run('tools/test.py', str(config), ckpt, '--work-dir', str(tmp_path / 'eval'),
                '--out', str(out), '--show-dir', 'shown')
    assert 'coco/bbox_mAP' in proc.stdout + proc.stderr
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 4 and 'pred_instances' in preds[0]
    assert len(list((tmp_path / 'eval').glob('*/shown/*.png'))) == 4

    stamp = out.stat().st_mtime_ns
    again = _run('tools/test.py', str(config), ckpt, '--work-dir', str(tmp_path / 'eval'),
                 '--out', str(out), expect_ok=False)
    assert again.returncode != 0
    assert 'already exists' in again.stderr and '--overwrite' in again.stderr
    assert out.stat().st_mtime_ns == stamp


def test_amp_without_gpu_is_a_clear_error(trained):
    import torch
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: --amp is valid here')
    config, _ = trained
    proc = _run('tools/train.py', str(config), '--amp', expect_ok=False)
    assert proc.returncode != 0 and '--amp needs a CUDA GPU' in proc.stderr


def test_slurm_launch_without_gpu_is_a_clear_error(trained):
    import torch

    from uniremoval_mm.utils.cli import load_config
    from uniremoval_mm.utils.errors import UsageError
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: distributed launch is valid here')
    config, _ = trained
    with pytest.raises(UsageError, match='--launcher slurm needs CUDA GPUs'):
        load_config(str(config), launcher='slurm')
    # --launcher pytorch runs on CPU (gloo): tests/test_compat/test_cpu_distributed.py


def test_missing_config_is_a_clear_error():
    proc = _run('tools/train.py', 'configs/does_not_exist.py', expect_ok=False)
    assert proc.returncode != 0
    assert 'config file not found: configs/does_not_exist.py' in proc.stderr


def test_paired_folder_evaluation_reports_the_identity_students_input_psnr(tmp_path):
    """A new UniRemovalNet is the identity, so tools/test.py --paired-folder must report
    exactly the degraded inputs' own PSNR, computed here independently."""
    import re

    import cv2
    import numpy as np
    import torch
    from mmagic.evaluation.metrics.psnr import psnr
    from mmagic.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from ..helpers import make_paired_folder
    root = make_paired_folder(tmp_path / 'pairs', [(33, 41), (25, 30)], lq_dir='rainy',
                              gt_dir='clean', lq_suffix='', gt_suffix='')
    config = REPO_ROOT / 'configs/teachers/uniremoval-net-b_specialist_dehaze.py'
    cfg = Config.fromfile(str(config))
    cfg.model.generator.type = 'UniRemovalNetT'
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    ckpt = tmp_path / 'identity.pth'
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, ckpt)
    proc = _run('tools/test.py', str(config), str(ckpt), '--work-dir', str(tmp_path / 'eval'),
                '--paired-folder', str(root), 'rainy', 'clean',
                '--cfg-options', 'model.generator.type=UniRemovalNetT')
    reported = float(re.search(r'rgb/PSNR: ([0-9.]+)', proc.stdout + proc.stderr).group(1))
    expected = np.mean([psnr(cv2.imread(str(root / 'rainy' / f'{i}.png')),
                             cv2.imread(str(root / 'clean' / f'{i}.png'))) for i in range(2)])
    assert reported == pytest.approx(expected, abs=1e-3)
    missing = _run('tools/test.py', str(config), str(ckpt), '--paired-folder', str(root),
                   'nope', 'clean', expect_ok=False)
    assert missing.returncode == 2 and 'nope is not a directory' in missing.stderr
