#!/usr/bin/env python
"""Evaluate a checkpoint with a config's test loop and metrics.

Same flags as MMDetection's ``tools/test.py``::

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out results.pkl]
        [--show-dir DIR] [--cfg-options k=v ...] [--launcher ...]
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
from uniremoval_mm.utils.cli import (add_result_dump, add_runner_arguments,  # noqa: E402
                                     build_runner, enable_visualization, load_config,
                                     parse_runner_arguments, run_cli, strip_training,
                                     use_paired_folder)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a uniremoval_mm model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file (path or URL)')
    parser.add_argument('--work-dir', help='the dir to save the evaluation log')
    parser.add_argument(
        '--out', type=str, help='dump raw predictions to this pickle file (.pkl / .pickle)')
    parser.add_argument(
        '--overwrite', action='store_true', help='allow --out to replace an existing file')
    parser.add_argument(
        '--paired-folder', nargs=3, metavar=('ROOT', 'LQ_DIR', 'GT_DIR'),
        help='evaluate a restorer on this folder of pairs instead of the config\'s test set '
        '(PSNR/SSIM in RGB and Y), e.g. ../shared/realdata/pairs/rain100l rainy clean')
    parser.add_argument(
        '--match', default='same',
        help="with --paired-folder: same | reside | sidd | a regex with one group")
    parser.add_argument('--show', action='store_true', help='show predictions in a window')
    parser.add_argument('--show-dir', help='save drawn predictions under work_dir/SHOW_DIR')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds each shown image stays up')
    add_runner_arguments(parser, 'test_dataloader.batch_size=2')
    return parse_runner_arguments(parser, argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(
        args.config, args.cfg_options, work_dir=args.work_dir, launcher=args.launcher)
    cfg.load_from = args.checkpoint
    strip_training(cfg)
    if args.paired_folder:
        use_paired_folder(cfg, *args.paired_folder, match=args.match)
    if args.show or args.show_dir:
        enable_visualization(cfg, show=args.show, show_dir=args.show_dir,
                             wait_time=args.wait_time)
    runner = build_runner(cfg)
    if args.out is not None:
        add_result_dump(runner, args.out, overwrite=args.overwrite)
    runner.test()


if __name__ == '__main__':
    sys.exit(run_cli(main))
