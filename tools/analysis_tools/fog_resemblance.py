#!/usr/bin/env python
"""Do synthetic hazy crops look like real fog? Item-by-item statistics and a picture.

Takes random crops (``--crop`` px, of photos shrunk to ``--side``) of real foggy photos
(by default DAWN's calibration pool) and of clean photos degraded by each haze
synthesis (``--synthesis NAME=TRANSFORM``, registered transforms; default the stage-1
``AddHaze`` and ``AddOutdoorFog``), and prints the mean ± sd of the measures of
:mod:`uniremoval_mm.evaluation.real_photos` (mean luma, crushed black, colour cast,
local contrast, airlight-normalised haze) plus the vertical veil gradient (mean luma of
the top half minus the bottom half: real road fog thickens towards the horizon) and
the saturation (mean of max - min over RGB). ``--grid`` writes a picture of a few crops
of each.

    python tools/analysis_tools/fog_resemblance.py \\
        --real ../shared/realdata/detection/dawn_fog/images#dawn-calibration \\
        --clean data/clean_photos_plus --grid fog_resemblance.jpg
"""
import argparse
import sys
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.datasets.image_files import list_images, read_image  # noqa: E402
from uniremoval_mm.datasets.realdata_splits import dawn_split_files  # noqa: E402
from uniremoval_mm.evaluation import real_photos as rp  # noqa: E402
from uniremoval_mm.utils.cli import run_cli  # noqa: E402
from uniremoval_mm.utils.errors import UsageError  # noqa: E402

STATS = ('luma', 'crushed', 'cast', 'contrast', 'haze', 'gradient', 'saturation')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--real', required=True, metavar='DIR[#SPLIT]',
                        help='real foggy photos (#dawn-calibration keeps DAWN\'s pool)')
    parser.add_argument('--clean', required=True, help='clean photos to degrade')
    parser.add_argument('--synthesis', action='append', metavar='NAME=TRANSFORM',
                        help='a registered haze transform (default: stage1=AddHaze, '
                        'outdoor=AddOutdoorFog)')
    parser.add_argument('--crops', type=int, default=200, help='crops per set (200)')
    parser.add_argument('--crop', type=int, default=128, help='crop side (128)')
    parser.add_argument('--side', type=int, default=640, help='photos shrunk to this (640)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--grid', help='write a picture of 6 crops per set here')
    return parser.parse_args(argv)


def crop_stats(img: np.ndarray) -> Dict[str, float]:
    """:func:`rp.photo_stats` of a uint8 RGB crop, plus its veil gradient and saturation."""
    stats = rp.photo_stats(img)
    y = rp.luma(img)
    half = y.shape[0] // 2
    stats['gradient'] = float(y[:half].mean() - y[half:].mean())
    f = img.astype(np.float32) / 255
    stats['saturation'] = float((f.max(2) - f.min(2)).mean())
    return stats


def random_crops(files: List[Path], n: int, crop: int, side: int,
                 rng: np.random.Generator) -> List[np.ndarray]:
    """``n`` random crops (uint8 RGB) of photos shrunk to ``side``; photos drawn in turn."""
    photos = [rp.resize_longer(read_image(f).rgb.astype(np.uint8), side) for f in files]
    photos = [p for p in photos if min(p.shape[:2]) >= crop]
    if not photos:
        raise UsageError(f'no photo is at least {crop} px on its shorter side')
    crops = []
    for i in range(n):
        p = photos[i % len(photos)]
        top = int(rng.integers(0, p.shape[0] - crop + 1))
        left = int(rng.integers(0, p.shape[1] - crop + 1))
        crops.append(np.ascontiguousarray(p[top:top + crop, left:left + crop]))
    return crops


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.registry import TRANSFORMS

    import uniremoval_mm  # noqa: F401 (registers the transforms)
    folder, _, split = args.real.partition('#')
    real_files = dawn_split_files(folder, split) if split else list_images(Path(folder))
    clean_files = list_images(Path(args.clean))
    if not real_files or not clean_files:
        raise UsageError(f'no photos in {folder if not real_files else args.clean}')
    specs = args.synthesis or ['stage1=AddHaze', 'outdoor=AddOutdoorFog']
    rng = np.random.default_rng(args.seed)
    sets = {'real': random_crops(real_files, args.crops, args.crop, args.side, rng)}
    clean = random_crops(clean_files, args.crops, args.crop, args.side, rng)
    for spec in specs:
        name, _, transform = spec.partition('=')
        t = TRANSFORMS.build(dict(type=transform, seed=args.seed))
        sets[name] = [t.transform(dict(img=c.copy(), sample_idx=i))['img']
                      for i, c in enumerate(clean)]
    print('| set | ' + ' | '.join(STATS) + ' |\n|---|' + '---|' * len(STATS))
    for name, crops in sets.items():
        table = np.array([[crop_stats(c)[k] for k in STATS] for c in crops])
        cells = [f'{m:.3f} ± {s:.3f}' for m, s in zip(table.mean(0), table.std(0))]
        print(f'| {name} | ' + ' | '.join(cells) + ' |')
    if args.grid:
        rows = [np.concatenate(crops[:6], 1) for crops in sets.values()]
        cv2.imwrite(args.grid, np.concatenate(rows, 0)[..., ::-1])
        print(f'wrote {args.grid} (rows: {", ".join(sets)})', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
