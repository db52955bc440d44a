#!/usr/bin/env python
"""Detection benchmark: a detector on clean, degraded and restored copies of its val set.

Usage:
    python tools/analysis_tools/detection_benchmark.py DET_CONFIG DET_CHECKPOINT
        [--restorer UniRemovalNetS | RESTORATION_CONFIG.py] [--restorer-checkpoint CKPT]
        [--data-root data/demo/detection] [--sets clean haze rain blur noise mixed]
        [--modes raw restored] [--label NAME] [--work-dir DIR] [--jobs N]
        [--max-images N | --images START:STOP] [--border PX]
        [--student NAME=CKPT ...] [--detector NAME=CONFIG,CHECKPOINT ...]
        [--reference ARM] [--plot FILE] [--exact] [--reuse]

Each (set, mode) is one run of ``tools/test.py`` in a subprocess, on a generated config
(``WORK_DIR/configs/``): a ``_base_`` delta on DET_CONFIG that points the test set at
``DATA_ROOT/val.json`` + ``val/`` (``clean``) or ``DATA_ROOT/<set>/val.json`` +
``<set>/images/`` (what ``make_degraded_coco.py`` writes) and, for ``restored``, puts a
frozen ``UniRemovalPreprocessor`` in front (with ``RestorationQualityMetric`` against the
clean images). A DET_CONFIG that already has a ``UniRemovalPreprocessor`` (a jointly
fine-tuned detector) is run as it is in mode ``restored``. Prints a markdown table (COCO
bbox mAP, mAP_50; the share of the mAP lost to the degradation that restoring wins back;
PSNR of input and restored) and writes ``WORK_DIR/<label>.json`` and ``<label>.md``.
``--jobs N`` runs N of them at a time, each with cores / N threads; ``--max-images N``
tests on the first N val images only (a quick check), ``--images START:STOP`` on val
images START..STOP-1 (in the order of ``val.json``: a tuning split kept apart from the
images a table reports); either writes the subset's annotations next to the configs, so
mAP is over those images alone (and not over every image of ``val.json``, which would
count the ones left out as missed).
``--border PX`` gives the pre-processor ``border=PX`` (images mirrored outwards by PX before
restoring, cropped back after, as ``tools/restore.py`` does by default; 0, the
pre-processor's default, restores the image as it is).

Several restorers, seeds and arms in one command: ``--student NAME=CKPT`` (repeatable) runs
mode ``restored`` once per student (each with ``--restorer``'s network). Students named
``<arm> s<seed>`` are grouped: the table gives each arm's mean ± sd over its seeds and
the share of the lost mAP that the mean recovers, and, for every arm after the first
(the reference), its difference to the reference paired by seed where both have that
seed. ``--reuse`` takes a run whose work dir already holds its metrics (so the raw rows,
or a student measured before, are not run again; the config written must be the same).

Detectors that were themselves trained (fine-tuned on degraded images, or jointly with a
restorer): ``--detector NAME=CONFIG,CHECKPOINT`` (repeatable) tests that detector on every
set, raw, or through its own ``UniRemovalPreprocessor`` where its config has one. Its rows
join the students' in the same table, named and grouped into arms the same way; arms
appear in the order given (``--student`` and ``--detector`` mixed); the paired differences
are taken against the first, or against ``--reference ARM``. With detectors and neither
students nor ``--restorer-checkpoint``, the main detector is run raw only (the clean
detector's row).

The logic is :mod:`uniremoval_mm.evaluation.detection_benchmark`; this is its command line.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.evaluation.detection_benchmark import (  # noqa: E402,F401 (the API, here too)
    MIN_LOSS, MODES, BenchmarkError, add_exact_map, arm_table, derived_config, exact_map,
    finished_metrics, has_preprocessor, measure_runs, parse_detector, plan_runs, plot_arms,
    resolve_arms, restorer_config, run_one, subset_annotations, table, write_report)


class _Ordered(argparse.Action):
    """Append ``(option, value)`` to ``namespace.entries`` (the one record of
    ``--student`` and ``--detector``): their order together is the order of the arms."""

    def __call__(self, parser, namespace, values, option_string=None):
        namespace.entries = [*namespace.entries, (option_string, values)]  # a new list:
        # the default one is never changed


def parse_args(argv=None) -> argparse.Namespace:
    from uniremoval_mm.utils.constants import DEGRADATION_TYPES
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', type=Path, help='detector config')
    parser.add_argument('checkpoint', help='detector checkpoint')
    parser.add_argument('--restorer', default='UniRemovalNetS',
                        help='network type, or a restoration config (its model.generator)')
    parser.add_argument('--restorer-checkpoint', help='restorer / stage-1 checkpoint')
    parser.add_argument('--data-root', type=Path, default=Path('data/demo/detection'))
    parser.add_argument('--sets', nargs='+', default=['clean', *DEGRADATION_TYPES])
    parser.add_argument('--modes', nargs='+', choices=MODES, default=list(MODES))
    parser.add_argument('--label', default='benchmark', help='name of the json / md files')
    parser.add_argument('--work-dir', type=Path, default=Path('work_dirs/detection_benchmark'))
    parser.add_argument('--jobs', type=int, default=1, help='test runs at a time')
    parser.add_argument('--max-images', type=int, help='only the first N val images')
    parser.add_argument('--images', metavar='START:STOP',
                        help='only val images START..STOP-1 (a tuning split)')
    parser.add_argument('--border', type=int, default=0,
                        help='mirrored margin of the restorer, in pixels (default 0)')
    parser.add_argument('--student', action=_Ordered, dest='entries', default=[],
                        metavar='NAME=CKPT',
                        help='a restorer checkpoint to test (repeatable); "ARM sSEED" names '
                        'group seeds into arms')
    parser.add_argument('--detector', action=_Ordered, dest='entries', default=[],
                        metavar='NAME=CONFIG,CKPT',
                        help='a trained detector to test on every set (repeatable), raw or '
                        'through its own restorer; named and grouped as --student')
    parser.add_argument('--reference', metavar='ARM',
                        help='the arm the paired differences are taken against (default: '
                        'the first --student / --detector arm)')
    parser.add_argument('--plot', type=Path, metavar='FILE',
                        help='also draw the arms as grouped bars (png / jpg / svg)')
    parser.add_argument('--exact', action='store_true',
                        help='also score the saved detections unrounded (mmdet prints three '
                        'decimals): coco/bbox_mAP_exact, and a 4-decimal table')
    parser.add_argument('--reuse', action='store_true',
                        help='take the metrics of runs already finished in --work-dir')
    args = parser.parse_args(argv)
    if not args.config.is_file():
        parser.error(f'config not found: {args.config}')
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    if args.max_images is not None and args.max_images < 1:
        parser.error(f'--max-images must be >= 1, got {args.max_images}')
    args.image_range = None
    if args.images is not None:
        start, sep, stop = args.images.partition(':')
        if args.max_images is not None:
            parser.error('--images and --max-images: give one')
        if not (sep and start.isdigit() and stop.isdigit() and int(start) < int(stop)):
            parser.error(f'--images {args.images!r}: expected START:STOP, 0 <= START < STOP')
        args.image_range = range(int(start), int(stop))
    if args.border < 0:
        parser.error(f'--border must be >= 0, got {args.border}')
    args.builtin = has_preprocessor(args.config)
    try:
        args.students, args.detectors, args.order, args.modes = resolve_arms(
            args.entries, args.modes, args.builtin, args.restorer_checkpoint, args.reference)
    except ValueError as e:
        parser.error(str(e))
    try:
        args.net = None if args.builtin else restorer_config(args.restorer)
    except (FileNotFoundError, ValueError) as e:
        parser.error(f'--restorer: {e}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        runs = plan_runs(args.config, args.checkpoint, args.data_root, args.sets, args.modes,
                         args.students, args.detectors, args.net, args.work_dir, args.label,
                         args.max_images, args.border, args.image_range, args.exact)
        rows = measure_runs(runs, args.jobs, args.reuse, args.exact)
    except BenchmarkError as e:
        print(f'detection_benchmark: {e}', file=sys.stderr)
        return 1
    record = dict(
        config=str(args.config), checkpoint=args.checkpoint, restorer=args.net,
        restorer_checkpoint=args.restorer_checkpoint, students=args.students,
        detectors={d: [str(c), k] for d, (c, k) in args.detectors.items()},
        border=args.border, data_root=str(args.data_root))
    print(write_report(rows, args.order, args.work_dir, args.label, record, args.reference,
                       args.plot))
    if args.plot is not None:
        print(f'wrote {args.plot}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
