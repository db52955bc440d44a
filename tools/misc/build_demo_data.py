#!/usr/bin/env python
"""Build the embedded demo data from photos shipped inside scikit-image (no download).

Writes, under ``--out`` (default ``data/demo``):

- ``clean/train/*.png``: full photos (astronaut, chelsea, rocket, the left view of the
  stereo motorcycle, Hubble deep field); ``clean/val/*.png``: 192-px crops of photos never
  used in training (coffee, the right motorcycle view);
- ``pairs/{haze,rain,blur,noise,mixed}/{lq,gt}/*.png``: the val crops degraded with a
  fixed seed (severity drawn per image), for ``PairedFolderDataset`` (``match='same'``);
- ``unpaired/{hazy,rainy,blurry,noisy}/*.png``: "real-like" degraded photos (train-photo
  crops) and ``unpaired/clean/*.png``: clean crops of other photos, for stage 2;
- ``detection/{train,val}/*.png`` + ``detection/{train,val}.json``: a COCO-style set of
  textured disks, squares and triangles composited onto real-photo backgrounds, boxes
  known by construction; ``detection/{haze,...}/`` hold its degraded val copies;
- ``MANIFEST.txt``.

A second run with the manifest in place does nothing; ``--force`` rebuilds. It never
writes into a folder it did not make. Photos: scikit-image's bundled data (public
domain / CC0 / the authors' permission, see skimage.data's docstrings).

``--detection-val N`` makes N detection val images instead of 60 (the detection
benchmark's 300-image sets). The train images and the first 60 val images are the same
for every N: they are drawn first, from the same seeded stream.

Usage: python tools/misc/build_demo_data.py [--out data/demo] [--force] [--detection-val N]
"""
import argparse
import json
import shutil
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled

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


DEGRADATIONS = dict(haze='AddHaze', rain='AddRain', blur='AddBlur', noise='AddNoise')
UNPAIRED = dict(hazy='AddHaze', rainy='AddRain', blurry='AddBlur', noisy='AddNoise')
CLASSES = ('disk', 'square', 'triangle')
DET_SIZE = (320, 240)  # width, height
DET_COUNTS = dict(train=240, val=60)


def _write(path: Path, bgr: np.ndarray, written: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), bgr)
    written.append(path)


def _transform(name: str, seed: int, severity=None):
    from mmengine.registry import TRANSFORMS

    import uniremoval_mm  # noqa: F401  (registers the transforms)
    if name == 'mixed':
        return TRANSFORMS.build(dict(type='AddMixedDegradation', seed=seed,
                                     transforms=[dict(type=t) for t in DEGRADATIONS.values()]))
    return TRANSFORMS.build(dict(type=name, seed=seed, severity=severity))


def build_pairs(out: Path, val_files: list, written: list) -> None:
    """Fixed degraded copies of the clean val crops, one folder pair per degradation."""
    for kind, name in [*DEGRADATIONS.items(), ('mixed', 'mixed')]:
        t = _transform(name, seed=0)
        for src in val_files:
            gt = cv2.imread(str(src))
            lq = t(dict(img=gt.copy(), img_path=src.name))['img']
            _write(out / 'pairs' / kind / 'gt' / src.name, gt, written)
            _write(out / 'pairs' / kind / 'lq' / src.name, lq, written)


def build_unpaired(out: Path, rng: np.random.Generator, written: list) -> None:
    """Degraded crops of the train photos per kind, and clean crops of the val photos."""
    crops = []
    for name in TRAIN:
        rgb = _photo(name)
        h, w = rgb.shape[:2]
        for k in range(2):
            y, x = int(rng.integers(0, h - 160)), int(rng.integers(0, w - 160))
            crops.append((f'{name}_{k}', cv2.cvtColor(rgb[y:y + 160, x:x + 160],
                                                      cv2.COLOR_RGB2BGR)))
    for kind, name in UNPAIRED.items():
        t = _transform(name, seed=1)
        for stem, bgr in crops:
            _write(out / 'unpaired' / kind / f'{stem}.png',
                   t(dict(img=bgr.copy(), img_path=stem))['img'], written)
    for name in VAL:
        for i, crop in _val_crops(_photo(name), 160):
            _write(out / 'unpaired' / 'clean' / f'{name}_{i}.png',
                   cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), written)


def _shape_mask(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    if kind == 'disk':
        cv2.circle(mask, (size // 2, size // 2), size // 2 - 1, 255, -1)
    elif kind == 'square':
        mask[1:-1, 1:-1] = 255
    else:
        pts = np.array([[size // 2, 1], [1, size - 2], [size - 2, size - 2]], np.int32)
        cv2.fillPoly(mask, [pts], 255)
    return mask


def build_detection(out: Path, rng: np.random.Generator, written: list,
                    counts: dict = DET_COUNTS) -> None:
    """Textured shapes on real-photo backgrounds, with their boxes, in COCO json.

    Args:
        out: The demo data folder.
        rng: The seeded stream every image is drawn from, train first, then val.
        written: List the paths written are appended to.
        counts: Images per split, ``dict(train=..., val=...)``.
    """
    photos = [cv2.cvtColor(_photo(n), cv2.COLOR_RGB2BGR) for n in TRAIN + VAL]
    w, h = DET_SIZE
    cat = {c: i + 1 for i, c in enumerate(CLASSES)}
    for split, count in counts.items():
        images, annotations = [], []
        for idx in range(count):
            bg = photos[int(rng.integers(len(photos)))]
            scale = max(w / bg.shape[1], h / bg.shape[0]) * float(rng.uniform(1.0, 1.6))
            bg = cv2.resize(bg, (int(bg.shape[1] * scale) + 1, int(bg.shape[0] * scale) + 1))
            y0 = int(rng.integers(0, bg.shape[0] - h + 1))
            x0 = int(rng.integers(0, bg.shape[1] - w + 1))
            img = bg[y0:y0 + h, x0:x0 + w].copy()
            boxes = []
            for _ in range(int(rng.integers(1, 5))):
                kind = CLASSES[int(rng.integers(len(CLASSES)))]
                size = int(rng.integers(28, 90))
                for _try in range(20):  # place without heavy overlap
                    x, y = int(rng.integers(0, w - size)), int(rng.integers(0, h - size))
                    if all(x + size <= bx or bx + bs <= x or y + size <= by or by + bs <= y
                           for bx, by, bs, _ in boxes):
                        break
                else:
                    continue
                tex = photos[int(rng.integers(len(photos)))]
                ty = int(rng.integers(0, tex.shape[0] - size))
                tx = int(rng.integers(0, tex.shape[1] - size))
                patch = tex[ty:ty + size, tx:tx + size].astype(np.float32)
                tint = rng.uniform(0.5, 1.5, 3).astype(np.float32)
                patch = np.clip(patch * tint, 0, 255)
                mask = _shape_mask(kind, size, rng)
                edge = cv2.morphologyEx(mask, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
                colour = rng.integers(0, 256, 3).astype(np.float32)
                region = img[y:y + size, x:x + size].astype(np.float32)
                m = (mask[..., None] > 0)
                region = np.where(m, patch, region)
                region = np.where(edge[..., None] > 0, colour, region)
                img[y:y + size, x:x + size] = region.astype(np.uint8)
                boxes.append((x, y, size, kind))
            name = f'{split}_{idx:04d}.png'
            _write(out / 'detection' / split / name, img, written)
            image_id = idx + 1
            images.append(dict(id=image_id, file_name=name, width=w, height=h))
            for x, y, size, kind in boxes:
                annotations.append(dict(id=len(annotations) + 1, image_id=image_id,
                                        category_id=cat[kind],
                                        bbox=[float(x), float(y), float(size), float(size)],
                                        area=float(size * size), iscrowd=0))
        ann = out / 'detection' / f'{split}.json'
        ann.write_text(json.dumps(dict(
            images=images, annotations=annotations,
            categories=[dict(id=i, name=c) for c, i in cat.items()])))
        written.append(ann)


def build_degraded_detection(out: Path, written: list) -> None:
    """Degraded copies of the detection val set (same boxes), one per degradation."""
    from uniremoval_mm.datasets.degrade_coco import make_degraded_coco
    for kind, name in [*DEGRADATIONS.items(), ('mixed', 'mixed')]:
        cfg = (dict(type='AddMixedDegradation', seed=0,
                    transforms=[dict(type=t) for t in DEGRADATIONS.values()])
               if name == 'mixed' else dict(type=name, seed=0))
        target = out / 'detection' / kind
        report = make_degraded_coco(out / 'detection' / 'val.json', out / 'detection' / 'val',
                                    target, cfg)
        if report.failed:
            raise RuntimeError(f'degrading the demo detection set failed: {report.failed[:3]}')
        written.extend(sorted((target / 'images').iterdir()))
        written.append(report.out_ann)


def build(out: Path, force: bool = False, detection_val: int = DET_COUNTS['val']) -> int:
    """Write the demo data; return the number of files written.

    Args:
        out: Folder to write into (made by this tool or new).
        force: Rebuild what this tool made before.
        detection_val: Number of detection val images (each also degraded five ways).
    """
    if detection_val < 1:
        raise ValueError('build_demo_data: --detection-val must be at least 1, '
                         f'got {detection_val}')
    counts = dict(DET_COUNTS, val=detection_val)
    manifest = out / 'MANIFEST.txt'
    if manifest.is_file() and not force:
        print(f'{out}: demo data already built ({manifest}); --force rebuilds it')
        return 0
    parts = [out / p for p in ('clean', 'pairs', 'unpaired', 'detection')]
    foreign = [p for p in parts if p.exists()] if not manifest.is_file() else []
    if foreign:
        raise SystemExit(f'build_demo_data: {foreign[0]} exists but was not made by this tool '
                         f'(no {manifest.name}); refusing to write into it')
    for p in parts:  # --force: start from nothing this tool did not write
        if p.exists():
            shutil.rmtree(p)
    rng = np.random.default_rng(0)
    written: list = []
    val_files = []
    for split, names in (('train', TRAIN), ('val', VAL)):
        for name in names:
            rgb = _photo(name)
            items = [(name, rgb)] if split == 'train' else [
                (f'{name}_{i}', crop) for i, crop in _val_crops(rgb, VAL_CROP)]
            for stem, img in items:
                path = out / 'clean' / split / f'{stem}.png'
                _write(path, cv2.cvtColor(img, cv2.COLOR_RGB2BGR), written)
                if split == 'val':
                    val_files.append(path)
    steps = [('degraded pairs', lambda: build_pairs(out, val_files, written)),
             ('unpaired folders', lambda: build_unpaired(out, rng, written)),
             ('detection set', lambda: build_detection(out, rng, written, counts)),
             ('degraded detection val sets', lambda: build_degraded_detection(out, written))]
    for title, step in tqdm(steps, desc='demo data', unit='part'):
        step()
    manifest.write_text(''.join(f'{p.relative_to(out)}\n' for p in written))
    print(f'{out}: wrote {len(written)} files (clean photos, degraded pairs, unpaired folders, '
          f'detection set of {sum(counts.values())} images and its degraded val copies)')
    return len(written)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, default=Path('data/demo'))
    parser.add_argument('--force', action='store_true', help='rebuild what this tool made')
    parser.add_argument('--detection-val', type=int, default=DET_COUNTS['val'],
                        help='detection val images (default %(default)s; the benchmark uses 300)')
    args = parser.parse_args(argv)
    if args.detection_val < 1:
        parser.error(f'--detection-val must be at least 1, got {args.detection_val}')
    warnings.filterwarnings('ignore')
    build(args.out, args.force, args.detection_val)
    return 0


if __name__ == '__main__':
    sys.exit(main())
