"""NoReferenceQuality: NIQE and haze density per group, for input, stage 1 and output."""
import math

import numpy as np
import pytest
import torch
from skimage import data as skdata

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets.transforms import AddHaze
from uniremoval_mm.evaluation import NoReferenceQuality, dark_channel_density, piqe_score


def _photo(size=(200, 300)):
    img = skdata.astronaut()[:size[0], :size[1]]
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)  # uint8 RGB


def _hazy(img):
    out = AddHaze(severity=4, seed=0)(dict(img=img.permute(1, 2, 0).numpy().copy(),
                                           img_path='x'))['img']
    return torch.from_numpy(out).permute(2, 0, 1)


def test_haze_raises_the_dark_channel_and_restoration_is_measured_per_group():
    clean, hazy = _photo(), _hazy(_photo())
    assert dark_channel_density(hazy / 255.) > dark_channel_density(clean / 255.) + 0.2
    noisy = (clean.float() + torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))
             * 40).clamp(0, 255).to(torch.uint8)
    metric = NoReferenceQuality(output_channel_order='rgb')
    batch = dict(inputs=[hazy, noisy, clean[:, :90, :90]])
    samples = [
        dict(degradation_type='hazy', output=dict(pred_img=clean.float(),
                                                  stage1_img=hazy.float())),
        dict(degradation_type='noisy', output=dict(pred_img=clean.float())),
        dict(degradation_type='noisy', output=dict(pred_img=clean[:, :90, :90].float())),
    ]
    metric.process(batch, samples)
    res = metric.compute_metrics(metric.results)
    assert res['hazy/dark_input'] > res['hazy/dark_output'] + 0.2
    assert res['hazy/dark_stage1'] == pytest.approx(res['hazy/dark_input'])
    assert res['noisy/NIQE_input'] > res['noisy/NIQE_output'] + 1  # noise looks unnatural
    assert res['noisy/PIQE_input'] > res['noisy/PIQE_output'] + 10  # and has visible noise
    assert res['NIQE_skipped'] == 1  # the 90×90 image has no two 96-px blocks
    assert not math.isnan(res['NIQE_output'])
    assert 'noisy/NIQE_stage1' not in res  # no stage-1 image given for that group


def test_bgr_inputs_are_flipped_and_bad_measures_refused():
    img = _photo((100, 200))  # two 96-px NIQE blocks
    metric = NoReferenceQuality(measures=('dark', 'niqe'))  # outputs BGR, as mmagic's
    metric.process(dict(inputs=[img.flip(0)]),
                   [dict(img_channel_order='bgr', output=dict(pred_img=img.flip(0).float()))])
    row = metric.results[0]
    assert row['dark_input'] == pytest.approx(row['dark_output'])
    assert row['NIQE_input'] == pytest.approx(row['NIQE_output'])  # same image, same order
    assert 'PIQE_input' not in row  # only what was asked for
    with pytest.raises(ValueError, match='measures'):
        NoReferenceQuality(measures=('psnr',))


def test_piqe_sees_noise_and_blocks_reads_rgb_and_is_nan_on_black():
    clean = _photo((131, 157)).permute(1, 2, 0).numpy()  # odd sizes: pypiqe pads
    rng = np.random.default_rng(0)
    noisy = np.clip(clean + rng.normal(0, 30, clean.shape), 0, 255)
    blocky = clean.copy()
    h, w = (131 // 8) * 8, (157 // 8) * 8  # 8-px blocks of their mean: JPEG-like blocking
    blocks = clean[:h, :w].reshape(h // 8, 8, w // 8, 8, 3).mean(axis=(1, 3), keepdims=True)
    blocky[:h, :w] = np.broadcast_to(blocks, (h // 8, 8, w // 8, 8, 3)).reshape(h, w, 3)
    base = piqe_score(clean)
    assert 0 <= base < piqe_score(noisy) - 10
    assert base < piqe_score(blocky) - 10
    # RGB in: the channel order matters (pypiqe's own grey conversion reads BGR)
    from pypiqe import piqe
    assert base == pytest.approx(piqe(np.ascontiguousarray(clean[..., ::-1]))[0])
    assert math.isnan(piqe_score(np.zeros((40, 40, 3))))
