"""The released student in checkpoints/: small, student-only, loads everywhere a student
loads without training, and restores (a regression guard on the released weights)."""
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from ...conftest import REPO_ROOT

RELEASED = REPO_ROOT / 'checkpoints' / 'uniremoval-net-s_stage1-cpu.pth'
EXTRACTOR = REPO_ROOT / 'checkpoints' / 'uniremoval-net-t_extractor.pth'
REAL_FOG = REPO_ROOT / 'checkpoints' / 'uniremoval-net-s_stage2-realfog-cpu.pth'


def _scene(h=96, w=112, seed=0):
    """A clean RGB test picture: smooth gradients, edges and texture, uint8."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([xx / w, yy / h, 0.5 + 0.3 * np.sin(xx / 7) * np.cos(yy / 9)], -1)
    for _ in range(6):
        y, x, r = rng.integers(10, h - 10), rng.integers(10, w - 10), rng.integers(5, 14)
        cv2.circle(img, (int(x), int(y)), int(r), rng.uniform(0, 1, 3).tolist(), -1)
    return (img.clip(0, 1) * 255).round().astype(np.uint8)


@pytest.mark.parametrize('path, params', [(RELEASED, 1_414_255), (EXTRACTOR, 75_579),
                                          (REAL_FOG, 1_414_255)])
def test_released_files_hold_only_a_student_in_float16(path, params):
    from uniremoval_mm.utils.checkpoint import load_external_checkpoint
    assert path.stat().st_size <= 6 * 2**20
    raw = load_external_checkpoint(str(path))  # weights_only
    state = raw['state_dict']
    assert sum(v.numel() for v in state.values()) == params
    assert not [k for k in state if k.startswith(('teachers', 'generator.', 'igcl', 'adapters',
                                                  'reference', 'discriminator', 'cgcl'))]
    assert {v.dtype for v in state.values() if v.is_floating_point()} == {torch.float16}


def test_the_preprocessor_loads_it_and_restores_odd_sizes():
    from mmdet.registry import MODELS

    import uniremoval_mm  # noqa: F401
    pre = MODELS.build(dict(type='UniRemovalPreprocessor', _scope_='mmdet',
                            restorer=dict(type='mmagic.UniRemovalNetS'),
                            restorer_checkpoint=str(RELEASED), freeze=True,
                            mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                            bgr_to_rgb=True))
    img = torch.from_numpy(_scene(37, 53)[..., ::-1].copy()).permute(2, 0, 1)
    out = pre(dict(inputs=[img], data_samples=None), False)
    assert out['inputs'].shape[-2:] == (37, 53) and torch.isfinite(out['inputs']).all()


@pytest.mark.parametrize('kind, margin', [('noise', 1.5), ('haze', 3.0)])
def test_it_restores_what_it_was_trained_for(kind, margin):
    """On a picture nobody trained on, degraded by our transform at severity 3."""
    from mmagic.evaluation.metrics.psnr import psnr
    from mmengine.registry import TRANSFORMS

    from uniremoval_mm.models import build_uniremoval_net
    from uniremoval_mm.utils.checkpoint import load_weights
    name = dict(noise='AddNoise', haze='AddHaze')[kind]
    clean = _scene()
    lq = TRANSFORMS.build(dict(type=name, severity=3, seed=0))(
        dict(img=clean.copy(), img_path='scene'))['img']
    net = build_uniremoval_net('S').eval()
    load_weights(net, str(RELEASED))
    with torch.no_grad():
        y = net(torch.from_numpy(lq).permute(2, 0, 1)[None].float() / 255)
    out = y[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
    before, after = psnr(lq, clean, channel_order='rgb'), psnr(out, clean, channel_order='rgb')
    assert after > before + margin, (before, after)


def test_the_restore_tool_uses_it_with_no_training(tmp_path):
    cv2.imwrite(str(tmp_path / 'in.png'), _scene(45, 61))
    proc = subprocess.run([sys.executable, 'tools/restore.py', 'configs/uniremoval_stage1.py',
                           str(RELEASED), str(tmp_path / 'in.png'), str(tmp_path / 'out'),
                           '--device', 'cpu', '--no-progress', '--side-by-side'],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = cv2.imread(str(next((tmp_path / 'out').iterdir())))
    assert out.shape[0] == 45 and out.shape[1] >= 2 * 61


def test_the_real_fog_student_keeps_a_foggy_picture_bright_where_the_default_darkens_it():
    """The regression guard of the real-fog checkpoint: a grey veil over a scene keeps
    most of its brightness (the default pulls it down)."""
    from uniremoval_mm.apis import init_restorer, restore_image
    foggy = (_scene(97, 131).astype(np.float32) * 0.35 + 150).astype(np.uint8)
    mean = {}
    for name, path in (('default', RELEASED), ('real fog', REAL_FOG)):
        out = restore_image(init_restorer('S', str(path)), foggy)
        assert out.shape == foggy.shape and out.dtype == np.uint8
        mean[name] = out.mean() / foggy.mean()
    assert mean['real fog'] > 0.85 and mean['real fog'] > mean['default']
