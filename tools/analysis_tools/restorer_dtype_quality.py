#!/usr/bin/env python
"""How much ``UniRemovalPreprocessor(restorer_dtype='bfloat16')`` changes the restored images.

Runs the pre-processor's restoration (``restore``: uint8 BGR images in, 0-255 float out,
as in front of a detector) with ``restorer_dtype='float32'`` and ``'bfloat16'`` on the
degraded/clean pairs that ``stage1_table.py`` uses (the demo pairs and the real pairs of
``--realdata`` when present), and prints per set, as a markdown table: PSNR of the bf16
output against the float32 output (both rounded to uint8, as a detector's input would be
stored; and unrounded), the largest absolute difference (0-255 scale), and PSNR / SSIM
against the clean image of the input, the float32 output and the bf16 output (mmagic's
functional ``psnr`` / ``ssim``, like ``stage1_table.py``).

    python tools/analysis_tools/restorer_dtype_quality.py \\
        --checkpoint work_dirs/stage1_cpu_full/iter_400.pth --threads 1
"""
import argparse
import math
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
sys.path.insert(0, str(Path(__file__).resolve().parent))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint', required=True,
                        help='stage-1 or student checkpoint of the restorer')
    parser.add_argument('--restorer', default='UniRemovalNetS', help='restorer type')
    parser.add_argument('--demo-root', default='data/demo/pairs')
    parser.add_argument('--realdata', default='../shared/realdata')
    parser.add_argument('--max-side', type=int, default=None,
                        help='centre-crop images to at most this side (faster)')
    parser.add_argument('--threads', type=int, default=None, help='torch.set_num_threads')
    return parser.parse_args(argv)


def _psnr_float(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float((a.double() - b.double()).square().mean())
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


@torch.inference_mode()
def main(argv=None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings('ignore')
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmagic.evaluation.metrics.psnr import psnr
    from mmagic.evaluation.metrics.ssim import ssim
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope
    from stage1_table import _read, _sets

    import uniremoval_mm  # noqa: F401
    pres = {}
    for dtype in ('float32', 'bfloat16'):
        with DefaultScope.overwrite_default_scope('mmdet'):
            pres[dtype] = MODELS.build(
                dict(type='UniRemovalPreprocessor', restorer=dict(type=f'mmagic.{args.restorer}'),
                     restorer_checkpoint=args.checkpoint, restorer_dtype=dtype,
                     mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                     bgr_to_rgb=True)).eval()
    print(f'# {args.restorer} from {args.checkpoint}; PSNR / SSIM on RGB uint8')
    print('| set | images | bf16 vs fp32 PSNR (uint8) | bf16 vs fp32 PSNR (float) | '
          'max abs diff (0-255) | input vs GT | fp32 vs GT | bf16 vs GT | '
          'bf16 - fp32 vs GT (dB) |')
    print('|---|---|---|---|---|---|---|---|---|')
    for name, _, items in _sets(args):
        rows = []
        for lq_path, gt_path in items:
            lq, gt = _read(lq_path, args.max_side), _read(gt_path, args.max_side)
            bgr = torch.from_numpy(np.ascontiguousarray(lq[..., ::-1])).permute(2, 0, 1)
            out = {k: pre.restore([bgr])[0] for k, pre in pres.items()}
            u8 = {k: v.round().byte() for k, v in out.items()}
            rgb = {k: v.flip(0).permute(1, 2, 0).numpy() for k, v in u8.items()}
            rows.append(dict(
                vs_u8=_psnr_float(u8['bfloat16'].float(), u8['float32'].float()),
                vs_float=_psnr_float(out['bfloat16'], out['float32']),
                max_abs=float((out['bfloat16'] - out['float32']).abs().max()),
                **{f'{k}_gt': (psnr(v, gt, channel_order='rgb'), ssim(v, gt, channel_order='rgb'))
                   for k, v in dict(input=lq, **rgb).items()}))
        mean = {k: np.mean([r[k] for r in rows], axis=0) for k in rows[0]}
        fmt = '{0[0]:.2f} / {0[1]:.4f}'.format
        print(f"| {name} | {len(rows)} | {mean['vs_u8']:.2f} | {mean['vs_float']:.2f} | "
              f"{max(r['max_abs'] for r in rows):.2f} | {fmt(mean['input_gt'])} | "
              f"{fmt(mean['float32_gt'])} | {fmt(mean['bfloat16_gt'])} | "
              f"{mean['bfloat16_gt'][0] - mean['float32_gt'][0]:+.3f} |")
    return 0


if __name__ == '__main__':
    sys.exit(main())
