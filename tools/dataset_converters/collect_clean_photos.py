#!/usr/bin/env python
"""Collect every clean photo available offline into one folder, for stage-1 training.

Writes, under ``--out`` (default ``data/clean_photos``), PNG files of:

- scikit-image's bundled colour photos (astronaut, chelsea, rocket, Hubble deep field,
  immunohistochemistry, retina), **except** the demo's validation photos (coffee and the
  stereo motorcycle pair: its left view is the same scene as the right one that the demo
  pairs are cut from), so that the demo pairs stay held out;
- the clean photos under ``<realdata>/unpaired/clean`` when that folder exists (the clean
  sides of the real benchmark pairs, SOTS and Rain100L, are evaluation data and are never
  copied).

A second run with the same sources does nothing; ``--force`` rewrites. It never writes
into a folder it did not make (it leaves a ``SOURCES.txt`` there).

    python tools/dataset_converters/collect_clean_photos.py [--out data/clean_photos]
"""
import argparse
import sys
import warnings
from pathlib import Path
from typing import Dict

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled

SKIMAGE_PHOTOS = ('astronaut', 'chelsea', 'rocket', 'hubble_deep_field',
                  'immunohistochemistry', 'retina')
#: The demo's validation photos and their stereo twin: never in training.
HELD_OUT = ('coffee', 'stereo_motorcycle')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/clean_photos')
    parser.add_argument('--realdata', default='../shared/realdata',
                        help='its unpaired/clean photos are added when present')
    parser.add_argument('--force', action='store_true', help='rewrite an existing folder')
    return parser.parse_args(argv)


def collect(realdata: Path) -> Dict[str, np.ndarray]:
    """name -> 8-bit RGB photo, from every offline source.

    Args:
        realdata (Path): Root of the shared real data (may be absent).

    Returns:
        dict[str, np.ndarray]: The photos.
    """
    from skimage import data

    from uniremoval_mm.datasets.image_files import list_images, read_image, to_rgb8
    photos = {}
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        for name in SKIMAGE_PHOTOS:
            photos[f'skimage_{name}'] = getattr(data, name)()
    clean = realdata / 'unpaired' / 'clean'
    if clean.is_dir():
        for path in list_images(clean):
            photos[f'realdata_{path.stem}'] = to_rgb8(read_image(path))
    return photos


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    marker = out / 'SOURCES.txt'
    if out.exists() and any(out.iterdir()) and not marker.is_file():
        raise SystemExit(f'{out}: exists and was not made by this tool; choose another --out')
    photos = collect(Path(args.realdata))
    listing = ''.join(f'{name}.png {img.shape[1]}x{img.shape[0]}\n'
                      for name, img in sorted(photos.items()))
    if marker.is_file() and marker.read_text() == listing and not args.force:
        print(f'{out}: up to date ({len(photos)} photos)')
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for name, rgb in photos.items():
        cv2.imwrite(str(out / f'{name}.png'), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    marker.write_text(listing)
    print(f'{out}: wrote {len(photos)} photos (held out: {", ".join(HELD_OUT)})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
