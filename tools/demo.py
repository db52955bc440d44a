#!/usr/bin/env python
"""The main job on the embedded demo (README command one).

Today: (1) the stack's smoke job: print the versions, build a Faster R-CNN R50-FPN from
MMDetection's own ``mmdet::`` config, run it on a real photo shipped with an installed
package, and draw its boxes (random weights, since nothing can be downloaded here: the
boxes mean nothing, the job proves the stack runs end to end); (2) build the embedded
demo data (``data/demo``, from scikit-image's photos; skipped if already built); (3) draw
one photo under every degradation and severity. The full demo (both stages, detection
benchmark) grows from here.

Usage: python tools/demo.py [--out-dir work_dirs/demo] [--device cpu]
"""
import argparse
import sys
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled

DETECTOR_CFG = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', default='work_dirs/demo', help='where pictures go')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    return parser.parse_args(argv)


def print_versions() -> None:
    import mmagic
    import mmcv
    import mmdet
    import mmengine
    import torch
    import torchvision
    from mmcv.ops import get_compiling_cuda_version

    import uniremoval_mm
    print('== versions ==')
    print(f'python        {sys.version.split()[0]}')
    print(f'torch         {torch.__version__} (CUDA available: {torch.cuda.is_available()})')
    print(f'torchvision   {torchvision.__version__}')
    print(f'mmengine      {mmengine.__version__}')
    print(f'mmcv          {mmcv.__version__} (ops compiled with CUDA: '
          f'{get_compiling_cuda_version()})')
    print(f'mmdet         {mmdet.__version__}')
    print(f'mmagic        {mmagic.__version__}')
    print(f'uniremoval_mm {uniremoval_mm.__version__}')


def real_photo():
    """A real photograph that ships inside scikit-image (no download): RGB uint8."""
    from skimage import data
    return data.astronaut(), 'skimage.data.astronaut (NASA, public domain)'


def main(argv=None) -> int:
    args = parse_args(argv)
    print_versions()

    from mmdet.apis import inference_detector, init_detector
    from mmdet.visualization import DetLocalVisualizer
    from mmengine.hub import get_config

    print(f'\n== smoke job: {DETECTOR_CFG} on a real photo ==')
    cfg = get_config(DETECTOR_CFG)  # resolves mmdet:: to the installed mmdet's configs
    cfg.model.backbone.init_cfg = None  # its ImageNet weights would be a download
    # Random weights score every class near 1/81: keep the 10 best boxes to draw something.
    cfg.model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=10)
    t0 = time.perf_counter()
    model = init_detector(cfg, checkpoint=None, device=args.device)
    n_params = sum(p.numel() for p in model.parameters())
    print(f'built {type(model).__name__} ({n_params / 1e6:.1f} M parameters) in '
          f'{time.perf_counter() - t0:.1f} s')

    rgb, source = real_photo()
    bgr = rgb[..., ::-1].copy()  # mmdet's pipelines expect BGR, as cv2 reads
    print(f'photo: {source}, {bgr.shape[1]}x{bgr.shape[0]}')
    inference_detector(model, bgr)  # warm-up
    t0 = time.perf_counter()
    result = inference_detector(model, bgr)
    latency = time.perf_counter() - t0
    pred = result.pred_instances
    print(f'inference: {latency:.2f} s on {args.device}; {len(pred)} boxes, '
          f'max score {float(pred.scores.max()) if len(pred) else 0.0:.3f} '
          '(random weights, top 10 kept: the boxes are meaningless, the pipeline is what '
          'is tested)')

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    out_file = out_dir / 'smoke_faster_rcnn.jpg'
    visualizer = DetLocalVisualizer()
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample(
        'smoke', rgb, data_sample=result, draw_gt=False, pred_score_thr=0.0,
        out_file=str(out_file))
    print(f'drawn boxes: {out_file}')
    print('\nsmoke job OK')

    print('\n== demo data (data/demo) ==')
    _tool('misc/build_demo_data.py').build(Path('data/demo'))
    grid_file = out_dir / 'degradation_grid.jpg'
    grid = _tool('misc/degradation_grid.py').make_grid(bgr, size=224, seed=0)
    cv2.imwrite(str(grid_file), grid, [int(cv2.IMWRITE_JPEG_QUALITY), 88])
    print(f'degradations at severities 1-5: {grid_file} (rewritten on every run)')
    return 0


def _tool(relative: str):
    """Import a script under tools/ as a module (they are scripts, not a package)."""
    import importlib.util
    path = Path(__file__).resolve().parent / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == '__main__':
    sys.exit(main())
