#!/usr/bin/env python
"""Export a UniRemovalNet student to ONNX with dynamic batch, height and width.

The export is checked: onnxruntime's output is compared with PyTorch's at ``--verify``
sizes (other than the export size, odd ones included) and the largest absolute
difference is printed; the script fails above ``--tolerance``. With ``--bench`` it also
times onnxruntime against PyTorch on CPU (batch 1, warm-up, then the median of
``--runs``).

Usage::

    python tools/deployment/pytorch2onnx.py --size S --out work_dirs/student_s.onnx
    python tools/deployment/pytorch2onnx.py --size S --checkpoint stage1.pth \\
        --out student_s.onnx --bench 256 640 --runs 10
"""
import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled


def build_student(size: str, checkpoint: Optional[str] = None) -> nn.Module:
    """A named student size, with weights if given, in eval mode.

    Args:
        size (str): ``'T'``, ``'S'`` or ``'B'``.
        checkpoint (str, optional): Path or URL of its weights; stage-1 / mmagic
            checkpoints (``generator.`` keys) load as they are. Defaults to None (a new
            network, with a random rather than zero tail so the check is not trivial).

    Returns:
        nn.Module: The network.
    """
    from uniremoval_mm.apis import init_restorer
    torch.manual_seed(0)
    net = init_restorer(size, checkpoint, overrides=dict(zero_init_tail=checkpoint is not None))
    if checkpoint is None:  # a new network is the identity: perturb it for the check
        for p in net.parameters():
            if not p.detach().any():
                nn.init.normal_(p, std=0.1)
    return net


def export(net: nn.Module, out: str, shape: Tuple[int, int] = (61, 83),
           opset: int = 17) -> None:
    """Export ``net`` to ``out`` with dynamic batch, height and width.

    Args:
        net (nn.Module): The network.
        out (str): Path of the ``.onnx`` file.
        shape (tuple[int, int]): (H, W) of the example input; any size works, the
            graph pads and crops for itself. Defaults to (61, 83).
        opset (int): ONNX opset. Defaults to 17.
    """
    axes = {0: 'batch', 2: 'height', 3: 'width'}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.filterwarnings('ignore')  # the TorchScript exporter's deprecation notice
        torch.onnx.export(net, (torch.rand(1, 3, *shape), ), out, input_names=['input'],
                          output_names=['output'], opset_version=opset,
                          dynamic_axes=dict(input=axes, output=axes), dynamo=False)
    import onnx
    onnx.checker.check_model(onnx.load(out))


def session(path: str, threads: Optional[int] = None):
    """An onnxruntime CPU session for ``path``."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=['CPUExecutionProvider'])


def max_abs_diff(net: nn.Module, sess, shapes: Sequence[Tuple[int, int]],
                 batch: int = 1) -> Dict[str, float]:
    """Largest absolute difference of onnxruntime's output from PyTorch's, per size."""
    g = torch.Generator().manual_seed(1)
    diffs = {}
    for h, w in shapes:
        x = torch.rand(batch, 3, h, w, generator=g)
        with torch.inference_mode():
            ref = net(x).numpy()
        got = sess.run(None, {'input': x.numpy()})[0]
        if got.shape != ref.shape:
            raise AssertionError(f'{h}x{w}: onnxruntime gave {got.shape}, not {ref.shape}')
        diffs[f'{h}x{w}'] = float(np.abs(got - ref).max())
    return diffs


def _median_time(fn, warmup: int, runs: int) -> Tuple[float, float, float]:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def bench(net: nn.Module, sess, sizes: Sequence[int], warmup: int,
          runs: int) -> List[dict]:
    """Median latency of PyTorch and onnxruntime on CPU at batch 1, per square size."""
    rows = []
    for s in sizes:
        x = torch.rand(1, 3, s, s)
        feed = {'input': x.numpy()}
        with torch.inference_mode():
            pt = _median_time(lambda: net(x), warmup, runs)
        ort = _median_time(lambda: sess.run(None, feed), warmup, runs)
        rows.append(dict(size=s, torch_s=pt, onnxruntime_s=ort))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', default='S', choices=['T', 'S', 'B'])
    parser.add_argument('--checkpoint', default=None, help='weights (default: random)')
    parser.add_argument('--out', default='work_dirs/uniremoval_net.onnx')
    parser.add_argument('--shape', type=int, nargs=2, default=[61, 83], metavar=('H', 'W'),
                        help='export input size')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--verify', type=int, nargs='+', default=[37, 53, 128, 96],
                        help='H W pairs checked against PyTorch')
    parser.add_argument('--tolerance', type=float, default=1e-4,
                        help='largest accepted absolute difference')
    parser.add_argument('--bench', type=int, nargs='*', default=[],
                        help='square sizes to time PyTorch and onnxruntime at')
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--threads', type=int, default=None,
                        help='CPU threads of both runtimes (default: their own)')
    args = parser.parse_args(argv)
    if len(args.verify) % 2:
        parser.error('--verify takes H W pairs')
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        net = build_student(args.size, args.checkpoint)
        export(net, args.out, tuple(args.shape), args.opset)
        print(f'exported UniRemovalNet-{args.size} to {args.out} (opset {args.opset}, '
              f'dynamic batch/height/width, traced at {args.shape[0]}x{args.shape[1]})')
        sess = session(args.out, args.threads)
        pairs = list(zip(args.verify[::2], args.verify[1::2]))
        diffs = max_abs_diff(net, sess, pairs)
        worst = max(diffs.values())
        for k, v in diffs.items():
            print(f'max abs difference onnxruntime vs PyTorch at {k}: {v:.3e}')
        if args.bench:
            print('| size | PyTorch median (s) | onnxruntime median (s) | onnxruntime speed-up |')
            print('|---|---|---|---|')
            for row in bench(net, sess, args.bench, args.warmup, args.runs):
                pt, ort = row['torch_s'][0], row['onnxruntime_s'][0]
                print(f"| {row['size']}x{row['size']} | {pt:.4f} | {ort:.4f} | "
                      f'{pt / ort:.2f}x |')
    finally:
        torch.set_num_threads(threads)
    if worst > args.tolerance:
        print(f'FAILED: {worst:.3e} > tolerance {args.tolerance}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
