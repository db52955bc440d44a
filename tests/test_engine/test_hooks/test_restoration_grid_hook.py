"""RestorationGridHook: one input | restored | target grid per degradation type."""
from types import SimpleNamespace

import cv2
import pytest
import torch
from mmengine.visualization import Visualizer

import uniremoval_mm  # noqa: F401
from uniremoval_mm.engine import RestorationGridHook


def _sample(kind, h, w, gt=True):
    from mmagic.structures import DataSample
    s = DataSample(metainfo=dict(degradation_type=kind))
    pred = torch.zeros(3, h, w)
    pred[2] = 200.0  # red, in mmagic's BGR output order
    s.set_data(dict(output=DataSample(pred_img=pred)))
    if gt:
        s.gt_img = torch.full((3, h, w), 100, dtype=torch.uint8)
    return s


def test_grids_per_type_to_the_work_dir_and_the_visualiser(tmp_path):
    vis = Visualizer.get_instance('grid_hook_test', vis_backends=[dict(type='LocalVisBackend')],
                                  save_dir=str(tmp_path / 'vis'))
    runner = SimpleNamespace(work_dir=str(tmp_path), iter=7, visualizer=vis)
    hook = RestorationGridHook(max_samples=2, max_side=40)
    hook.before_val_epoch(runner)
    for b in range(3):  # three batches of haze + noise (noise without a target), odd sizes
        batch = dict(inputs=[torch.zeros(3, 37, 53, dtype=torch.uint8),
                             torch.zeros(3, 21, 17, dtype=torch.uint8)])
        hook.after_val_iter(runner, b, batch, [_sample('haze', 37, 53),
                                               _sample('noise', 21, 17, gt=False)])
    hook.after_val_epoch(runner)
    haze = cv2.imread(str(tmp_path / 'vis_grids' / 'iter_7' / 'haze.jpg'))
    noise = cv2.imread(str(tmp_path / 'vis_grids' / 'iter_7' / 'noise.jpg'))
    # haze: 2 rows (max_samples) x 3 columns of tiles scaled to 40 px wide, 4-px gaps
    assert haze.shape[:2] == (2 * 28 + 4, 3 * 40 + 8)
    assert noise.shape[:2] == (2 * 21 + 4, 2 * 17 + 4)  # no target column
    assert abs(int(haze[5, 5, 0])) < 10  # the black input
    # the output is red: cv2 reads BGR, so red is the last channel of the file
    assert abs(int(haze[5, 50, 2]) - 200) < 10 and int(haze[5, 50, 0]) < 10
    saved = [p.name for p in (tmp_path / 'vis').rglob('*.png')]  # the visualiser's backend
    assert sorted(saved) == ['restoration_haze_7.png', 'restoration_noise_7.png']


def test_bad_arguments():
    with pytest.raises(ValueError, match='max_samples'):
        RestorationGridHook(max_samples=0)
    with pytest.raises(ValueError, match='output_channel_order'):
        RestorationGridHook(output_channel_order='rbg')
