#!/usr/bin/env python
"""Calibrate the released student to your own unlabelled photos, and see what it changed.

Splits PHOTOS (a folder of your degraded photos: fog, haze; at least 20) into a part to
learn from (70 %) and a held-out part (30 %, by a hash of each file name), runs stage 2
(``configs/uniremoval_stage2_real-fog.py``: adversarial calibration against clean
photos, priors that keep tone, black level and colour, rehearsal of what stage 1
learnt) on the first part, writes ``WORK_DIR/calibrated_student.pth``, and prints the
real-photo table (docs/user_guides/real_photos.md) before and after on the held-out
part, with contact sheets ``WORK_DIR/held_out_*.jpg`` to look at.

    python tools/calibrate.py my_fog_photos/ --clean my_clean_photos/ \\
        --work-dir work_dirs/calibrate_my_fog

Then use the calibrated student wherever the released one goes:
``tools/restore.py configs/uniremoval_stage1.py work_dirs/calibrate_my_fog/
calibrated_student.pth ...`` or ``restorer_checkpoint=`` in a detector config.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
from uniremoval_mm.apis.calibration import MIN_PHOTOS, calibrate  # noqa: E402
from uniremoval_mm.utils.cli import run_cli  # noqa: E402
from uniremoval_mm.utils.errors import UsageError  # noqa: E402

RELEASED = 'checkpoints/uniremoval-net-s_stage1-cpu.pth'
DEFAULT_CLEAN = 'data/clean_photos_plus'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('photos', help=f'folder of your degraded photos (at least {MIN_PHOTOS})')
    parser.add_argument('--clean', default=DEFAULT_CLEAN,
                        help='folder of clean photos, ideally of similar scenes (default '
                        f'{DEFAULT_CLEAN}: tools/dataset_converters/collect_clean_photos.py)')
    parser.add_argument('--checkpoint', default=RELEASED,
                        help=f'the student to start from (default {RELEASED})')
    parser.add_argument('--work-dir', default='work_dirs/calibrate')
    parser.add_argument('--iters', type=int, default=200,
                        help='training iterations (200: 10-15 minutes on a 2-core CPU)')
    parser.add_argument('--holdout', type=float, default=0.3,
                        help='share of the photos held out to measure (0.3)')
    parser.add_argument('--kind', default='haze', help="the photos' degradation (haze)")
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--niqe', action='store_true', help='also measure NIQE (slow)')
    parser.add_argument('--threads', type=int, default=0, help='torch threads (0: default)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.iters < 1:
        raise UsageError(f'--iters must be >= 1, got {args.iters}')
    if not Path(args.clean).is_dir():
        raise UsageError(f'--clean: {args.clean} is not a folder (give clean photos, or build '
                         'the default with tools/dataset_converters/collect_clean_photos.py '
                         f'--out {DEFAULT_CLEAN})')
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    sys.path.insert(0, str(Path(__file__).resolve().parent / 'analysis_tools'))
    from real_photo_table import HEADER, format_row
    start = time.time()
    report = calibrate(args.photos, args.checkpoint, args.clean, args.work_dir,
                       iters=args.iters, holdout=args.holdout, seed=args.seed, kind=args.kind,
                       niqe=args.niqe)
    minutes = (time.time() - start) / 60
    print(f"\nheld-out photos ({len(report['held_out'])}, never trained on), "
          f"{minutes:.0f} min in all:\n{HEADER}")
    for name in ('before', 'after'):
        print(format_row('held out', name, report[name]))
    out = Path(args.work_dir) / 'calibration_report.json'
    out.write_text(json.dumps(dict(report, minutes=minutes, args=vars(args)), indent=1))
    print(f"\ncalibrated student: {report['student']}\nreport: {out}\ncontact sheets: "
          f"{', '.join(report['sheets'])}")
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
