#!/usr/bin/env python
"""Train a uniremoval_mm model (restorer, calibrator or detector) from a config.

Same flags as MMDetection's ``tools/train.py``::

    python tools/train.py configs/uniremoval_stage1.py [--work-dir DIR] [--amp]
        [--resume [CKPT]] [--cfg-options k=v ...] [--launcher none|pytorch|slurm|mpi]
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
from uniremoval_mm.utils.checkpoint import CheckpointError, resume_checkpoint  # noqa: E402
from uniremoval_mm.utils.cli import (UsageError, add_runner_arguments, build_runner,  # noqa: E402
                                     load_config, parse_runner_arguments, run_cli)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a uniremoval_mm model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--amp', action='store_true', help='enable automatic mixed precision (needs a GPU)')
    parser.add_argument(
        '--auto-scale-lr', action='store_true', help='scale the LR by the actual batch size')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; with no path, from the latest one in the work dir '
        '(if it is unreadable, from the newest readable one)')
    add_runner_arguments(parser, 'train_cfg.max_iters=100 "a.b=[1,2]"')
    return parse_runner_arguments(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(
        args.config, args.cfg_options, work_dir=args.work_dir, launcher=args.launcher,
        amp=args.amp, auto_scale_lr=args.auto_scale_lr)
    note = None
    if args.resume is not None:
        # checked before mmengine unpickles it: an unreadable one is one line, not a
        # traceback, and auto-resume falls back to the newest readable checkpoint
        try:
            picked, note = resume_checkpoint(
                cfg.work_dir, None if args.resume == 'auto' else args.resume)
        except CheckpointError as e:
            raise UsageError(str(e)) from e
        cfg.resume = True
        cfg.load_from = picked  # None: nothing to resume, mmengine starts afresh
    runner = build_runner(cfg)
    if note:
        runner.logger.warning(note)
    runner.train()


if __name__ == '__main__':
    sys.exit(run_cli(main))
