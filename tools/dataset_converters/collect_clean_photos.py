#!/usr/bin/env python
"""Collect every clean photo available offline into one folder, for stage-1 training.

Writes, under ``--out`` (default ``data/clean_photos``), PNG files of:

- scikit-image's bundled colour photos (astronaut, chelsea, rocket, Hubble deep field,
  immunohistochemistry, retina), **except** the demo's validation photos (coffee and the
  stereo motorcycle pair: its left view is the same scene as the right one that the demo
  pairs are cut from), so that the demo pairs stay held out;
- the clean photos under ``<realdata>/unpaired/clean`` when that folder exists (the clean
  sides of the real benchmark pairs, SOTS and Rain100L, are evaluation data and are never
  copied);
- with ``--opencv-samples DIR``, the colour photos among OpenCV's sample images
  (:data:`OPENCV_PHOTOS`: streets, buildings, sky, plants, animals, objects; no drawings,
  maps, paintings, grey or hazy photos). Debian ships them in its ``opencv-doc`` package,
  which unpacks without root::

      apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc
      python tools/dataset_converters/collect_clean_photos.py --out data/clean_photos_plus \
          --opencv-samples /tmp/opencv-doc/usr/share/doc/opencv-doc/examples

A second run with the same sources does nothing; ``--force`` rewrites. It never writes
into a folder it did not make (it leaves a ``SOURCES.txt`` there).

    python tools/dataset_converters/collect_clean_photos.py [--out data/clean_photos]
"""
import argparse
import sys
import warnings
from pathlib import Path
from typing import Dict, Optional

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled

SKIMAGE_PHOTOS = ('astronaut', 'chelsea', 'rocket', 'hubble_deep_field',
                  'immunohistochemistry', 'retina')
#: Colour photos among OpenCV's samples (paths under Debian's opencv-doc ``examples``
#: folder). Left out: drawings, maps, a painting, grey photos, and ``aero3`` (hazy).
OPENCV_PHOTOS = tuple(f'data/{n}' for n in (
    'aero1.jpg', 'baboon.jpg', 'building.jpg', 'fruits.jpg', 'home.jpg', 'messi5.jpg',
    'butterfly.jpg', 'squirrel_cls.jpg', 'graf1.png', 'leuvenA.jpg', 'aloeL.jpg',
    'rubberwhale1.png', 'smarties.png', 'stuff.jpg', 'board.jpg', 'chicky_512.png',
    'ela_original.jpg'))
OPENCV_PHOTOS += ('alphamat/input_images/plant.jpg', 'hfs/data/000.jpg', 'reg/home.png')
OPENCV_PHOTOS += tuple(f'text/scenetext0{i}.jpg' for i in range(1, 7))
#: The demo's validation photos and their stereo twin: never in training.
HELD_OUT = ('coffee', 'stereo_motorcycle')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/clean_photos')
    parser.add_argument('--realdata', default='../shared/realdata',
                        help='its unpaired/clean photos are added when present')
    parser.add_argument('--opencv-samples', default=None, metavar='DIR',
                        help="add OpenCV's sample photos from DIR (the examples folder of "
                        "Debian's opencv-doc package; see the module docstring)")
    parser.add_argument('--force', action='store_true', help='rewrite an existing folder')
    return parser.parse_args(argv)


def collect(realdata: Path, opencv_samples: Optional[Path] = None) -> Dict[str, np.ndarray]:
    """name -> 8-bit RGB photo, from every offline source.

    Args:
        realdata (Path): Root of the shared real data (may be absent).
        opencv_samples (Path, optional): OpenCV's sample folder; every photo of
            :data:`OPENCV_PHOTOS` must be there. Defaults to None (not used).

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
    if opencv_samples is not None:
        missing = [n for n in OPENCV_PHOTOS if not (opencv_samples / n).is_file()]
        if missing:
            raise SystemExit(f'--opencv-samples {opencv_samples}: missing {", ".join(missing)} '
                             "(expected the examples folder of Debian's opencv-doc)")
        for name in OPENCV_PHOTOS:
            stem = name.replace('/', '_').rsplit('.', 1)[0]
            photos[f'opencv_{stem}'] = to_rgb8(read_image(opencv_samples / name))
    return photos


def main(argv=None) -> int:
    args = parse_args(argv)
    out = Path(args.out)
    marker = out / 'SOURCES.txt'
    if out.exists() and any(out.iterdir()) and not marker.is_file():
        raise SystemExit(f'{out}: exists and was not made by this tool; choose another --out')
    photos = collect(Path(args.realdata),
                     Path(args.opencv_samples) if args.opencv_samples else None)
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
