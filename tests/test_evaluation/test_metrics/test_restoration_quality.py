"""RestorationQualityMetric: PSNR / SSIM of the restored images in a detection test run."""
import cv2
import numpy as np
import pytest
import torch
from mmdet.registry import METRICS as MMDET_METRICS
from mmengine.registry import DefaultScope

import uniremoval_mm  # noqa: F401


def _build(**cfg):
    with DefaultScope.overwrite_default_scope('mmdet'):  # whatever scope a test left
        return MMDET_METRICS.build(dict(type='RestorationQualityMetric', **cfg))


def _write(path, img):
    cv2.imwrite(str(path), img)
    return str(path)


def test_scores_restored_and_input_against_references(tmp_path):
    (tmp_path / 'clean').mkdir()
    (tmp_path / 'haze').mkdir()
    rng = np.random.default_rng(0)
    clean = rng.integers(0, 256, (24, 40, 3), dtype=np.uint8)
    _write(tmp_path / 'clean' / 'a.png', clean)
    hazy = _write(tmp_path / 'haze' / 'a.png', (clean * 0.5 + 100).astype(np.uint8))
    metric = _build(ref_dir=str(tmp_path / 'clean'))
    perfect = torch.from_numpy(clean).permute(2, 0, 1)
    metric.process({}, [dict(img_path=hazy, restored_img=perfect)])
    scores = metric.compute_metrics(metric.results)
    assert scores['SSIM'] == pytest.approx(1.0) and scores['PSNR'] == float('inf')
    assert scores['input_PSNR'] < 15 and scores['input_SSIM'] < 0.9
    # a resized test image: the reference is resized to it
    metric.results.clear()
    small = torch.from_numpy(cv2.resize(clean, (20, 12))).permute(2, 0, 1)
    metric.process({}, [dict(img_path=hazy, restored_img=small)])
    assert metric.compute_metrics(metric.results)['PSNR'] > 20


def test_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='ref_dir'):
        _build(ref_dir=str(tmp_path / 'nope'))
    metric = _build(ref_dir=str(tmp_path))
    with pytest.raises(KeyError, match='keep_restored'):
        metric.process({}, [dict(img_path='x.png')])
    with pytest.raises(FileNotFoundError, match='no reference'):
        metric.process({}, [dict(img_path='x.png', restored_img=torch.zeros(3, 4, 4).byte())])
