#!/usr/bin/env python
"""Make a foggy / rainy / blurry / noisy copy of a COCO-style detection set.

Usage:
    python tools/dataset_converters/make_degraded_coco.py ANN.json IMG_DIR OUT_DIR
        --type haze|rain|blur|noise|mixed [--severity 1-5] [--seed 0]
        [--max-pixels 25000000] [--overwrite]

Writes OUT_DIR/images/<same file names>, OUT_DIR/<ANN name> (same annotations; every image
entry gains the parameters used) and OUT_DIR/degradations.jsonl (one line per finished
image). Interrupted? Run the same command again: finished images are kept, the rest are
done. Images are decoded by content (grey, RGBA, palette, CMYK, 16-bit become 8-bit RGB;
the EXIF orientation is applied). Each image that cannot be done (unreadable, empty, not
an image, truncated, too large, of another size than the json says) is reported in one
line ``path: problem`` and left out; the run goes on and the exit code is then 1.
It refuses to write into the source folders, and replaces nothing it did not make
unless --overwrite is given (which also forgets an earlier run's records).
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
import uniremoval_mm  # noqa: E402,F401  (registers the transforms)
from uniremoval_mm.datasets.degrade_coco import (DEGRADATION_TRANSFORMS, MAX_PIXELS,  # noqa: E402
                                                 degradation_config, make_degraded_coco)

TYPES = DEGRADATION_TRANSFORMS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('ann_file', type=Path)
    parser.add_argument('img_dir', type=Path)
    parser.add_argument('out_dir', type=Path)
    parser.add_argument('--type', choices=[*TYPES, 'mixed'], required=True)
    parser.add_argument('--severity', type=int, choices=range(1, 6),
                        help='1-5; default: drawn per image')
    parser.add_argument('--seed', type=int, default=0, help='the set depends only on this')
    parser.add_argument('--max-pixels', type=int, default=MAX_PIXELS,
                        help=f'refuse larger images (default {MAX_PIXELS}: AddHaze needs about '
                        '85 bytes per pixel); 0 = no limit')
    parser.add_argument('--overwrite', action='store_true',
                        help='start afresh: forget earlier records, replace existing outputs')
    args = parser.parse_args(argv)
    if args.max_pixels < 0:
        parser.error('--max-pixels must be >= 0')
    try:
        report = make_degraded_coco(args.ann_file, args.img_dir, args.out_dir,
                                    degradation_config(args.type, args.severity, args.seed),
                                    progress=True, overwrite=args.overwrite,
                                    max_pixels=args.max_pixels or None)
    except (FileNotFoundError, ValueError) as e:
        print(f'make_degraded_coco: {e}', file=sys.stderr)
        return 2
    for line in report.failed:
        print(f'make_degraded_coco: {line}', file=sys.stderr)
    print(f'{report.out_ann}: {report.written} degraded now, {report.resumed} kept from an '
          f'earlier run, {len(report.failed)} failed')
    return 1 if report.failed else 0


if __name__ == '__main__':
    sys.exit(main())
