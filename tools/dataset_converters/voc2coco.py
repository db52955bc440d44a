#!/usr/bin/env python
"""Convert Pascal-VOC XML annotations (RTTS, DAWN, any class list) to one COCO json.

Usage:
    python tools/dataset_converters/voc2coco.py XML_DIR IMG_DIR OUT.json
        [--classes person car bus bicycle motorcycle | --coco-classes]
        [--box-policy clip|drop|keep]
        [--zero-based] [--quick] [--overwrite]

Every problem (malformed XML, an object without a readable box, a missing, unreadable,
corrupt or truncated image, an image named by two XML files, an unknown class, a box
outside the image) is reported as ``path: problem``, one line each; the conversion goes
on and the exit code is 1 if anything was left out (clipped boxes do not count). Notes
(``note: path: ...``) say what was fixed on the way: a missing or wrong ``<size>`` (the
image's own size is used), boxes of an EXIF-rotated photo turned onto the image as shown.
``difficult`` boxes get ``iscrowd=1`` (ignored by COCO evaluation, as VOC's own metric
ignores them). The output is never overwritten without
``--overwrite`` and never written inside XML_DIR or IMG_DIR.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.datasets.converters import BOX_POLICIES, voc_to_coco  # noqa: E402

RTTS_CLASSES = ('person', 'car', 'bus', 'bicycle', 'motorcycle')


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('xml_dir', type=Path)
    parser.add_argument('img_dir', type=Path)
    parser.add_argument('out', type=Path, help='COCO json to write')
    parser.add_argument('--classes', nargs='+',
                        help=f'class names in id order (RTTS: {" ".join(RTTS_CLASSES)}); '
                        'default: every name found, sorted')
    parser.add_argument('--coco-classes', action='store_true',
                        help="use COCO's 80 classes in mmdet's order (instead of --classes), "
                        'so that COCO-trained detectors are scored without remapping labels')
    parser.add_argument('--box-policy', choices=BOX_POLICIES, default='clip',
                        help='boxes leaving the image: clip them, drop them, or keep them')
    parser.add_argument('--zero-based', action='store_true',
                        help='the XML coordinates are 0-based (VOC proper is 1-based)')
    parser.add_argument('--quick', action='store_true',
                        help='check only each image\'s header, not every pixel (faster; a '
                        'truncated image is then found only when it is loaded)')
    parser.add_argument('--overwrite', action='store_true', help='replace an existing OUT')
    args = parser.parse_args(argv)
    if args.coco_classes:
        if args.classes:
            parser.error('--classes and --coco-classes exclude each other')
        from mmdet.datasets import CocoDataset
        args.classes = list(CocoDataset.METAINFO['classes'])
    out = args.out.resolve()
    for src in (args.xml_dir, args.img_dir):
        if src.resolve() in (out, *out.parents):
            print(f'voc2coco: refusing to write {out} inside the source folder {src}',
                  file=sys.stderr)
            return 2
    if out.exists() and not args.overwrite:
        print(f'voc2coco: {out} exists; pass --overwrite to replace it', file=sys.stderr)
        return 2
    try:
        coco, report = voc_to_coco(args.xml_dir, args.img_dir, args.classes, args.box_policy,
                                   one_based=not args.zero_based, progress=True,
                                   check_images='header' if args.quick else 'decode')
    except (FileNotFoundError, ValueError) as e:
        print(f'voc2coco: {e}', file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + '.part')
    tmp.write_text(json.dumps(coco))
    tmp.replace(out)
    for line in report.notes:
        print(f'voc2coco: note: {line}')
    for line in report.problems:
        print(f'voc2coco: {line}', file=sys.stderr)
    counts = ', '.join(f'{k} {v}' for k, v in report.class_counts.most_common())
    skipped = [p for p in report.problems if 'clipped' not in p]
    print(f'wrote {out}: {report.images} images, {report.boxes} boxes ({counts}); '
          f'{len(report.problems)} problem(s), {len(skipped)} of them leaving something out; '
          f'{len(report.notes)} note(s)')
    return 1 if skipped else 0


if __name__ == '__main__':
    sys.exit(main())
