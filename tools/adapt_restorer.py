#!/usr/bin/env python
"""Fit the restorer to your detector, and measure what it buys.

Usage:
    python tools/adapt_restorer.py DET_CONFIG DET_CHECKPOINT [--mode frozen|joint]
        [--kinds haze rain blur noise mixed] [--iters 400 | --minutes M] [--epochs 4]
        [--batch-size B] [--no-control] [--seed 0] [--out-dir DIR] [--jobs N]
        [--min-train-images 20] [--min-val-images 10]

``--mode frozen`` tunes the shipped student against the frozen detector's feature maps
(the detector's weights never change) on the detector's own training images, degraded on
the fly. The detector config must have COCO-style ``train_dataloader`` and
``val_dataloader`` datasets with the detector's classes. Writes, under ``--out-dir``: the
adapted student (weights only), a detector config that puts it in front, degraded copies
of the val set (the source is never written), and ``report.md`` / ``report.json`` /
``report.png``: bbox mAP on the clean and degraded val sets, raw, with the shipped
student and with the adapted one. Run it again after a crash: each step resumes.
``--minutes M`` times a few tuning iterations first and tunes for as many as fit in M
minutes (the benchmark's test runs come on top).

``--mode joint`` fine-tunes the detector with the student in front (both trained by the
detection loss, the student kept close to where it started), ``--epochs`` epochs on the
detector's training images degraded on the fly, and, unless ``--no-control``, the same
fine-tuning without a restorer as the control. Writes the fine-tuned detector (the
student inside) and its config, and the report: raw, joint and control per set, the
joint one paired against the control.

The logic is :func:`uniremoval_mm.apis.adaptation.adapt_frozen` / ``adapt_joint``; this is
their command line.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
from uniremoval_mm.apis.adaptation import (MIN_IMAGES, AdaptationError, adapt_frozen,  # noqa: E402
                                           adapt_joint)
from uniremoval_mm.evaluation.detection_benchmark import BenchmarkError  # noqa: E402
from uniremoval_mm.utils.cli import run_cli  # noqa: E402
from uniremoval_mm.utils.constants import DEGRADATION_TYPES  # noqa: E402
from uniremoval_mm.utils.errors import UsageError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', type=Path, help='detector config (COCO-style train/val)')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('--mode', choices=['frozen', 'joint'], default='frozen',
                        help='frozen: tune the restorer, the detector unchanged; joint: '
                        'fine-tune the detector and the restorer together')
    parser.add_argument('--kinds', nargs='+', choices=DEGRADATION_TYPES,
                        default=list(DEGRADATION_TYPES), help='degradations to measure')
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument('--iters', type=int, default=400,
                        help='tuning iterations (default 400: about 19 min on one CPU '
                        'thread with RTMDet-tiny)')
    budget.add_argument('--minutes', type=float,
                        help='tune for as many iterations as fit in this many minutes')
    parser.add_argument('--epochs', type=int, default=4, help='joint fine-tuning epochs')
    parser.add_argument('--batch-size', type=int,
                        help='joint: training batch size (default: the detector config\'s; '
                        'the documented RTMDet-tiny recipe used 8)')
    parser.add_argument('--no-control', action='store_true',
                        help='joint: skip the control (fine-tuning without a restorer)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out-dir', type=Path, default=Path('work_dirs/adapt_restorer'))
    parser.add_argument('--jobs', type=int, default=1, help='benchmark test runs at a time')
    parser.add_argument('--min-train-images', type=int, default=MIN_IMAGES['train'])
    parser.add_argument('--min-val-images', type=int, default=MIN_IMAGES['val'])
    args = parser.parse_args(argv)
    for flag in ('iters', 'epochs', 'jobs', 'min_train_images', 'min_val_images'):
        if getattr(args, flag) < 1:
            parser.error(f'--{flag.replace("_", "-")} must be >= 1, got {getattr(args, flag)}')
    if args.batch_size is not None and args.batch_size < 1:
        parser.error(f'--batch-size must be >= 1, got {args.batch_size}')
    if args.minutes is not None and not args.minutes > 0:
        parser.error(f'--minutes must be > 0, got {args.minutes}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    min_images = dict(train=args.min_train_images, val=args.min_val_images)
    try:
        if args.mode == 'joint':
            result = adapt_joint(args.config, args.checkpoint, args.out_dir, args.kinds,
                                 args.epochs, args.seed, min_images, args.jobs,
                                 control=not args.no_control, batch_size=args.batch_size)
        else:
            result = adapt_frozen(args.config, args.checkpoint, args.out_dir, args.kinds,
                                  args.iters, args.seed, min_images, args.jobs, args.minutes)
    except (AdaptationError, BenchmarkError) as e:
        raise UsageError(str(e)) from e
    print(f'wrote {result.student}, {result.config} and {result.report} (.json, .png)')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
