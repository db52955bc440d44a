#!/usr/bin/env python
"""Draw one photo under every degradation (rows) and severity 1-5 (columns).

Usage: python tools/misc/degradation_grid.py [--image PATH] [--out docs/images/degradation_grid.jpg]
       [--size 224] [--seed 0] [--overwrite]
Without --image it uses scikit-image's astronaut photo (NASA, public domain).
"""
import argparse
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled


def _label(tile: np.ndarray, text: str) -> np.ndarray:
    tile = tile.copy()
    cv2.rectangle(tile, (0, 0), (tile.shape[1], 22), (0, 0, 0), -1)
    cv2.putText(tile, text, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    return tile


def make_grid(bgr: np.ndarray, size: int, seed: int) -> np.ndarray:
    """The grid image (BGR): a clean column, then severities 1-5, one row per degradation."""
    from uniremoval_mm.datasets.transforms import severity_grid
    h, w = bgr.shape[:2]
    scale = size / min(h, w)
    small = cv2.resize(bgr, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    y0, x0 = (small.shape[0] - size) // 2, (small.shape[1] - size) // 2
    small = small[y0:y0 + size, x0:x0 + size]
    rows = []
    for name, images in severity_grid(small, seed=seed).items():
        tiles = [_label(small, 'clean')] + [_label(img, f'{name} {s}')
                                            for s, img in enumerate(images, 1)]
        rows.append(np.concatenate(tiles, axis=1))
    return np.concatenate(rows, axis=0)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--image', type=Path, help='a photo (default: skimage astronaut)')
    parser.add_argument('--out', type=Path, default=Path('docs/images/degradation_grid.jpg'))
    parser.add_argument('--size', type=int, default=224, help='tile size in pixels')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--overwrite', action='store_true', help='replace an existing --out')
    args = parser.parse_args(argv)
    warnings.filterwarnings('ignore')
    if args.out.exists() and not args.overwrite:
        print(f'degradation_grid: {args.out} exists; pass --overwrite to replace it',
              file=sys.stderr)
        return 1
    if args.image is None:
        from skimage import data
        bgr = data.astronaut()[..., ::-1].copy()
    else:
        bgr = cv2.imread(str(args.image), cv2.IMREAD_COLOR)
        if bgr is None:
            print(f'degradation_grid: {args.image}: cannot be decoded as an image',
                  file=sys.stderr)
            return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), make_grid(bgr, args.size, args.seed),
                [int(cv2.IMWRITE_JPEG_QUALITY), 88])
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
