#!/usr/bin/env python
"""Build the embedded demo data from photos shipped inside scikit-image (no download).

Writes ``<out>/clean/train/*.png`` (full photos: astronaut, chelsea, rocket, the left
view of the stereo motorcycle, Hubble deep field) and ``<out>/clean/val/*.png`` (crops of
photos never seen in training: coffee, the right motorcycle view), plus
``<out>/MANIFEST.txt``. A second run with the manifest in place does nothing;
``--force`` rebuilds. It never writes over files it did not make.

Photos: scikit-image's bundled data (public domain / CC0 / the authors' permission, see
skimage.data's docstrings).

Usage: python tools/misc/build_demo_data.py [--out data/demo] [--force]
"""
import argparse
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np

TRAIN = ('astronaut', 'chelsea', 'rocket', 'motorcycle_left', 'hubble_deep_field')
VAL = ('coffee', 'motorcycle_right')
VAL_CROP = 192


def _photo(name: str) -> np.ndarray:
    from skimage import data
    if name.startswith('motorcycle'):
        left, right, _ = data.stereo_motorcycle()
        return left if name.endswith('left') else right
    return getattr(data, name)()


def _val_crops(rgb: np.ndarray, size: int):
    h, w = rgb.shape[:2]
    for i, (y, x) in enumerate(((0, 0), (h - size, w - size), ((h - size) // 2, (w - size) // 2))):
        yield i, rgb[y:y + size, x:x + size]


def build(out: Path, force: bool = False) -> int:
    """Write the demo data; return the number of files written."""
    manifest = out / 'MANIFEST.txt'
    clean = out / 'clean'
    if manifest.is_file() and not force:
        print(f'{out}: demo data already built ({manifest}); --force rebuilds it')
        return 0
    if clean.exists() and not manifest.is_file():
        raise SystemExit(f'build_demo_data: {clean} exists but was not made by this tool '
                         f'(no {manifest.name}); refusing to write into it')
    written = []
    for split, names in (('train', TRAIN), ('val', VAL)):
        folder = clean / split
        folder.mkdir(parents=True, exist_ok=True)
        for name in names:
            rgb = _photo(name)
            items = [(name, rgb)] if split == 'train' else [
                (f'{name}_{i}', crop) for i, crop in _val_crops(rgb, VAL_CROP)]
            for stem, img in items:
                path = folder / f'{stem}.png'
                cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
                written.append(path)
    manifest.write_text(''.join(f'{p.relative_to(out)}\n' for p in written))
    print(f'{out}: wrote {len(written)} images ({len(TRAIN)} train photos, '
          f'{len(written) - len(TRAIN)} val crops)')
    return len(written)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, default=Path('data/demo'))
    parser.add_argument('--force', action='store_true', help='rebuild what this tool made')
    args = parser.parse_args(argv)
    warnings.filterwarnings('ignore')
    build(args.out, args.force)
    return 0


if __name__ == '__main__':
    sys.exit(main())
