"""Data that the tests make themselves (no downloads, no third-party files)."""
import json
from pathlib import Path
from typing import Sequence, Tuple

import cv2
import numpy as np

CLASSES = ('box', 'disk')


def make_tiny_coco(root: Path, sizes: Sequence[Tuple[int, int]] = ((96, 128), (81, 117),
                                                                   (100, 90), (64, 96)),
                   seed: int = 0) -> Path:
    """Write a COCO-style set of textured images holding boxes and disks.

    Args:
        root (Path): Folder to create; gets ``images/`` and ``ann.json``.
        sizes (Sequence[tuple[int, int]]): (H, W) of each image (odd sizes welcome).
        seed (int): Seed of the random content.

    Returns:
        Path: The annotation file.
    """
    rng = np.random.default_rng(seed)
    (root / 'images').mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for i, (h, w) in enumerate(sizes):
        img = (rng.random((h, w, 3)) * 60 + 80).astype(np.uint8)
        for j in range(2):
            bw, bh = int(rng.integers(w // 5, w // 3)), int(rng.integers(h // 5, h // 3))
            x0, y0 = int(rng.integers(0, w - bw)), int(rng.integers(0, h - bh))
            label = (i + j) % 2
            color = tuple(int(c) for c in rng.integers(0, 255, 3))
            if label == 0:
                cv2.rectangle(img, (x0, y0), (x0 + bw - 1, y0 + bh - 1), color, -1)
            else:
                cv2.ellipse(img, (x0 + bw // 2, y0 + bh // 2), (bw // 2, bh // 2), 0, 0, 360,
                            color, -1)
            annotations.append(dict(id=len(annotations) + 1, image_id=i + 1, category_id=label + 1,
                                    bbox=[x0, y0, bw, bh], area=bw * bh, iscrowd=0))
        name = f'img_{i:03d}.png'
        cv2.imwrite(str(root / 'images' / name), img)
        images.append(dict(id=i + 1, file_name=name, height=h, width=w))
    categories = [dict(id=k + 1, name=c) for k, c in enumerate(CLASSES)]
    ann = root / 'ann.json'
    ann.write_text(json.dumps(dict(images=images, annotations=annotations,
                                   categories=categories)))
    return ann


def tiny_faster_rcnn_config(data_root: Path, max_iters: int = 2) -> str:
    """A Faster R-CNN config (a delta on mmdet's own) over :func:`make_tiny_coco` data."""
    return f'''
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
custom_imports = dict(imports=['uniremoval_mm'], allow_failed_imports=False)
model = dict(backbone=dict(init_cfg=None), roi_head=dict(bbox_head=dict(num_classes=2)))
data_root = '{data_root}/'
metainfo = dict(classes={CLASSES!r})
pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=(128, 96), keep_ratio=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
dataset = dict(type='CocoDataset', data_root=data_root, ann_file='ann.json',
               data_prefix=dict(img='images/'), metainfo=metainfo, pipeline=pipeline,
               filter_cfg=dict(filter_empty_gt=False))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dataset)
val_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                      dataset=dict(dataset, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='CocoMetric', ann_file=data_root + 'ann.json', metric='bbox')
test_evaluator = val_evaluator
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={max_iters},
                 val_interval={max_iters})
param_scheduler = []
optim_wrapper = dict(optimizer=dict(lr=0.002))
default_hooks = dict(checkpoint=dict(interval=1, by_epoch=False), logger=dict(interval=1))
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
'''


def make_paired_folder(root: Path, sizes: Sequence[Tuple[int, int]], seed: int = 0,
                       lq_dir: str = 'noisy', gt_dir: str = 'gt', lq_suffix: str = '_NOISY',
                       gt_suffix: str = '_GT', sigma: float = 20.0) -> Path:
    """Write clean/noisy pairs in mmagic's SIDD layout (``noisy/0_NOISY.png`` ↔ ``gt/0_GT.png``).

    Args:
        root (Path): Folder to create.
        sizes (Sequence[tuple[int, int]]): (H, W) of each pair.
        seed (int): Seed of the content and the noise.
        lq_dir (str): Sub-folder of the degraded images. Defaults to ``'noisy'``.
        gt_dir (str): Sub-folder of the clean images. Defaults to ``'gt'``.
        lq_suffix (str): File-name suffix of degraded images. Defaults to ``'_NOISY'``.
        gt_suffix (str): File-name suffix of clean images. Defaults to ``'_GT'``.
        sigma (float): Gaussian noise level, in 0-255 units. Defaults to 20.

    Returns:
        Path: ``root``.
    """
    rng = np.random.default_rng(seed)
    (root / lq_dir).mkdir(parents=True, exist_ok=True)
    (root / gt_dir).mkdir(parents=True, exist_ok=True)
    for i, (h, w) in enumerate(sizes):
        yy, xx = np.mgrid[0:h, 0:w]
        clean = np.stack([(xx * 255 / max(w - 1, 1)), (yy * 255 / max(h - 1, 1)),
                          np.full((h, w), 128.0)], -1)
        cv2.circle(clean, (w // 2, h // 2), max(2, min(h, w) // 4), (30, 200, 90), -1)
        noisy = np.clip(clean + rng.normal(0, sigma, clean.shape), 0, 255)
        cv2.imwrite(str(root / gt_dir / f'{i}{gt_suffix}.png'), clean.astype(np.uint8))
        cv2.imwrite(str(root / lq_dir / f'{i}{lq_suffix}.png'), noisy.astype(np.uint8))
    return root


class CodeRunningPayload:
    """Unpickling this object creates ``marker``: stands for what a malicious pickle runs."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker, ))


def load_tool(relative: str):
    """Import a script under ``tools/`` (they are scripts, not a package) as a module.

    Args:
        relative (str): Its path under ``tools/``, e.g. ``'analysis_tools/stage1_table.py'``.

    Returns:
        module: The loaded script.
    """
    import importlib.util
    path = Path(__file__).resolve().parents[1] / 'tools' / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_random_photos(root: Path, sizes: Sequence[Tuple[int, int]], seed: int = 0) -> Path:
    """Write random 8-bit colour PNGs ``p0.png``, ``p1.png``... of the given (H, W).

    Args:
        root (Path): Folder to create.
        sizes (Sequence[tuple[int, int]]): (H, W) of each photo.
        seed (int): Seed of the pixels. Defaults to 0.

    Returns:
        Path: ``root``.
    """
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i, (h, w) in enumerate(sizes):
        cv2.imwrite(str(root / f'p{i}.png'), rng.integers(0, 256, (h, w, 3), np.uint8))
    return root
