"""Data and objects that the tests make themselves (no downloads, no third-party files).

The second half is the bad-input corpus. :func:`write_corpus` writes one file
per kind into a folder and returns what each kind is and what a component must say about
it; the restore tool, the datasets, their loading transforms and the converters are all
run on it (``docs/user_guides/robustness.md`` has the table). Kinds that need more than a file have
their own helpers: :func:`make_unreadable` (a file this process cannot read, also as
root), :func:`write_huge_jpeg` (8000x6000, made once per session by the ``huge_jpeg``
fixture in ``conftest.py``) and the empty folder (``tmp_path`` itself).
"""
import io
import json
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from PIL import Image

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


#: A ResNet-18 Faster R-CNN with narrow FPN and heads: a delta appended to
#: :func:`tiny_faster_rcnn_config` (its 2 classes kept).
TINY_RCNN18 = '''
model = dict(backbone=dict(depth=18, init_cfg=None),
             neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
             rpn_head=dict(in_channels=32, feat_channels=32),
             roi_head=dict(bbox_roi_extractor=dict(out_channels=32),
                           bbox_head=dict(in_channels=32, fc_out_channels=64, num_classes=2)))
'''


def tiny_detector(root: Path) -> Tuple[Path, Path]:
    """A ResNet-18 Faster R-CNN over tiny COCO data whose images are at least 129 px (the
    tuning recipe crops 128), its random weights saved as a checkpoint.

    Args:
        root (Path): Folder to create; gets ``data/``, ``det.py`` and ``det.pth``.

    Returns:
        tuple[Path, Path]: The config and the checkpoint.
    """
    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    make_tiny_coco(root / 'data', sizes=((130, 140), (150, 133), (129, 160), (140, 131)))
    config = root / 'det.py'
    config.write_text(tiny_faster_rcnn_config(root / 'data') + TINY_RCNN18)
    torch.manual_seed(0)
    det = MODELS.build(dict(Config.fromfile(str(config)).model, _scope_='mmdet'))
    checkpoint = root / 'det.pth'
    torch.save(dict(state_dict=det.state_dict(), meta={}), checkpoint)
    return config, checkpoint


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


def perturbed_student(size: str = 'S', std: float = 0.05, seed: int = 0, **kwargs):
    """A UniRemovalNet of a named size with every weight moved by Gaussian noise: a new
    student is the identity, which hides whatever a test means to see.

    Args:
        size (str): ``'T'``, ``'S'`` or ``'B'``.
        std (float): Standard deviation of the noise. Defaults to 0.05.
        seed (int): Seeds the initialisation and the noise. Defaults to 0.
        **kwargs: Network arguments (e.g. ``down_kernel``).

    Returns:
        UniRemovalNet: The network, in eval mode.
    """
    import torch

    from uniremoval_mm.models import build_uniremoval_net
    torch.manual_seed(seed)
    net = build_uniremoval_net(size, **kwargs)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * std)
    return net.eval()


def save_stage1_checkpoint(net, path: Path) -> Path:
    """Save ``net`` as a stage-1 training checkpoint does: its weights under ``generator.``.

    Args:
        net (nn.Module): The student.
        path (Path): Where to write.

    Returns:
        Path: ``path``.
    """
    import torch
    torch.save({'state_dict': {f'generator.{k}': v for k, v in net.state_dict().items()}},
               path)
    return path


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


def make_unpaired_folders(root: Path, sizes: Sequence[Tuple[int, int]] = ((200, 230), (97, 120)),
                          kinds: Sequence[str] = ('hazy', 'rainy', 'blurry', 'noisy', 'mixed',
                                                  'clean')) -> Path:
    """Write blurred random photos in the unpaired layout (``<kind>/0.png``...) of stage 2.

    Args:
        root (Path): Folder to create; gets one sub-folder per kind.
        sizes (Sequence[tuple[int, int]]): (H, W) of the photos of each kind.
        kinds (Sequence[str]): The sub-folders, named as configs/uniremoval_stage2.py's.

    Returns:
        Path: ``root``.
    """
    rng = np.random.default_rng(0)
    for k, kind in enumerate(kinds):
        (root / kind).mkdir(parents=True)
        for i, (h, w) in enumerate(sizes):
            img = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
            img = cv2.GaussianBlur(img, (0, 0), 3 + k)
            cv2.imwrite(str(root / kind / f'{i}.png'), img)
    return root


# Tiny models: a UniRemovalNet of width 4, the teachers and discriminator to go with it.
TINY_STUDENT = dict(type='UniRemovalNet', width=4, enc_blocks=(1, 1), middle_blocks=1)
TINY_TEACHERS = dict(
    haze=dict(type='FrozenTeacher', model=dict(type='DarkChannelPrior', patch=5, radius=4)),
    noise=dict(type='FrozenTeacher', model=dict(type='DnCNN', depth=3, channels=4)),
    blur=None)
TINY_DISCRIMINATOR = dict(type='SNPatchDiscriminator', base_channels=4, num_conv=2)
#: mmagic's pre-processor of the editors: uint8 in, [0, 1] out.
EDITOR_PREPROCESSOR = dict(type='DataPreprocessor', mean=[0.0] * 3, std=[255.0] * 3)


def paired_batch(types: Sequence[str], size: Tuple[int, int] = (29, 35), seed: int = 0) -> dict:
    """A distiller batch: per type, a random uint8 ``gt_img`` and a washed-out input."""
    import torch
    from mmagic.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for kind in types:
        gt = torch.randint(0, 256, (3, *size), generator=g, dtype=torch.uint8)
        lq = (gt.float() * 0.6 + 80).clamp(0, 255).to(torch.uint8)
        sample = DataSample(gt_img=gt, metainfo=dict(degradation_type=kind))
        inputs.append(lq)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def unpaired_batch(types: Sequence[str], size: Tuple[int, int] = (29, 35),
                   seed: int = 0) -> dict:
    """A calibrator batch: per type, a random uint8 image and no ground truth."""
    import torch
    from mmagic.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, *size), generator=g, dtype=torch.uint8) for _ in types]
    samples = [DataSample(metainfo=dict(degradation_type=t)) for t in types]
    return dict(inputs=inputs, data_samples=samples)


def _build_mmagic(cfg: dict):
    import torch
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        torch.manual_seed(0)
        return MODELS.build(cfg)


def build_distiller(**kwargs):
    """A tiny UniRemovalDistiller (seed 0); ``kwargs`` override its config."""
    return _build_mmagic(dict(dict(type='UniRemovalDistiller', generator=TINY_STUDENT,
                                   teachers=TINY_TEACHERS,
                                   data_preprocessor=EDITOR_PREPROCESSOR), **kwargs))


def build_calibrator(**kwargs):
    """A tiny UniRemovalCalibrator (seed 0); ``kwargs`` override its config."""
    return _build_mmagic(dict(dict(type='UniRemovalCalibrator', generator=TINY_STUDENT,
                                   discriminator=TINY_DISCRIMINATOR,
                                   data_preprocessor=EDITOR_PREPROCESSOR), **kwargs))


#: mmdet's usual data pre-processing (ImageNet mean/std, BGR pipeline, padding to 32).
DET_PREPROCESS = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                      bgr_to_rgb=True, pad_size_divisor=32)
#: A tiny restorer for UniRemovalPreprocessor (mmagic scope named: it is built under mmdet's).
TINY_RESTORER = dict(TINY_STUDENT, type='mmagic.UniRemovalNet')


def det_batch(sizes: Sequence[Tuple[int, int]] = ((37, 53), (30, 41)), seed: int = 0) -> dict:
    """A detection batch: random uint8 images of the given (H, W), one box each."""
    import torch
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8))
        s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                        scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(bboxes=torch.tensor([[2., 3., 20., 25.]]),
                                      labels=torch.tensor([1]))
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


def build_preprocessor(**kwargs):
    """A UniRemovalPreprocessor with :data:`TINY_RESTORER` and :data:`DET_PREPROCESS`
    (seed 0); ``kwargs`` add to its config."""
    import torch
    from mmdet.registry import MODELS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        torch.manual_seed(0)
        return MODELS.build(dict(type='UniRemovalPreprocessor', restorer=TINY_RESTORER,
                                 **DET_PREPROCESS, **kwargs))


# ---------------------------------------------------------------- the bad-input corpus
HUGE_SHAPE = (6000, 8000)  # (H, W)


@dataclass(frozen=True)
class Kind:
    """One corpus entry.

    Args:
        name (str): File name in the corpus folder.
        shape (tuple[int, int], optional): (H, W) as shown (EXIF applied) for a file
            every component must accept; None for a bad file.
        problem (str): For a bad file: words its one-line report must contain.
        header_ok (bool): A bad file whose header is fine (only decoding finds it).
    """
    name: str
    shape: Optional[Tuple[int, int]] = None
    problem: str = ''
    header_ok: bool = False

    @property
    def valid(self) -> bool:
        return self.shape is not None


def rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth, asymmetric colour picture (JPEG-friendly), (H, W, 3) uint8 RGB."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 / max(w - 1, 1), yy * 255 / max(h - 1, 1),
                    np.full((h, w), 60.0 + 40 * seed)], -1)
    return img.astype(np.uint8)


def pil_bytes(img: Image.Image, fmt: str, **kwargs) -> bytes:
    """``img`` encoded by Pillow as ``fmt``."""
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    """The first half of a 120x160 noise JPEG: the header is intact, the pixels are cut
    (OpenCV decodes such a file without an error, filling the rest with grey)."""
    noise = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    data = pil_bytes(Image.fromarray(noise), 'JPEG')
    return data[:len(data) // 2]


def truncated_png() -> bytes:
    """The first half of a 64x64 noise PNG (cut inside its pixel data)."""
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = pil_bytes(Image.fromarray(noise), 'PNG')
    return data[:len(data) // 2]


def exif_rotated_jpeg(stored: np.ndarray, orientation: int = 6) -> bytes:
    """A JPEG of ``stored`` (RGB) whose EXIF orientation says: show it rotated."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return pil_bytes(Image.fromarray(stored), 'JPEG', exif=exif, quality=98)


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG header claiming ``width`` x ``height`` over a few bytes of data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff))

    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b'\x00' * (1 + 3 * width))  # one row of the claimed width
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat)
            + chunk(b'IEND', b''))


def write_corpus(folder: Path) -> Dict[str, Kind]:
    """Write every file kind of the corpus into ``folder`` (made if missing).

    Args:
        folder (Path): Where to write.

    Returns:
        dict[str, Kind]: Kind by file name.
    """
    folder.mkdir(parents=True, exist_ok=True)
    kinds = []

    def put(kind: Kind, data: bytes) -> None:
        (folder / kind.name).write_bytes(data)
        kinds.append(kind)

    def put_cv(kind: Kind, img: np.ndarray) -> None:
        assert cv2.imwrite(str(folder / kind.name), img)
        kinds.append(kind)

    base = rgb(40, 60)
    # ------------------------------------------------------------------ good files
    put(Kind('plain.jpg', (40, 60)), pil_bytes(Image.fromarray(base), 'JPEG', quality=95))
    put(Kind('jpeg_named.png', (40, 60)), pil_bytes(Image.fromarray(base), 'JPEG'))
    put(Kind('bmp_named.jpg', (40, 60)), pil_bytes(Image.fromarray(base), 'BMP'))
    put(Kind('photo.webp', (40, 60)), pil_bytes(Image.fromarray(base), 'WEBP', lossless=True))
    put_cv(Kind('gray.png', (25, 35)), rgb(25, 35)[..., 0])
    put_cv(Kind('gray16.png', (25, 35)), rgb(25, 35)[..., 0].astype(np.uint16) * 257)
    put_cv(Kind('rgba.png', (25, 35)),
           np.dstack([rgb(25, 35), np.arange(25 * 35, dtype=np.uint8).reshape(25, 35)]))
    put(Kind('gray_alpha.png', (25, 35)), pil_bytes(Image.fromarray(rgb(25, 35)).convert('LA'),
                                                    'PNG'))
    palette = Image.fromarray(rgb(30, 20)).convert('P')
    put(Kind('palette.png', (30, 20)), pil_bytes(palette, 'PNG'))
    put(Kind('palette_alpha.png', (30, 20)), pil_bytes(palette, 'PNG', transparency=0))
    put(Kind('one_bit.png', (30, 20)), pil_bytes(palette.convert('1'), 'PNG'))
    put_cv(Kind('rgb16.png', (20, 30)),  # v * 257 + 3: 16-bit values that are not 8-bit ones
           np.minimum(rgb(20, 30).astype(np.uint32) * 257 + 3, 65535).astype(np.uint16))
    put(Kind('cmyk.jpg', (40, 60)), pil_bytes(Image.fromarray(base).convert('CMYK'), 'JPEG'))
    put(Kind('exif_rotated.jpg', (60, 40)), exif_rotated_jpeg(base))
    put_cv(Kind('tiny_1x1.png', (1, 1)), rgb(1, 1))
    put_cv(Kind('thin_3x1000.png', (3, 1000)), rgb(3, 1000))
    # ------------------------------------------------------------------- bad files
    put(Kind('empty.jpg', problem='empty file (0 bytes)'), b'')
    put(Kind('truncated.jpg', problem='corrupt or truncated JPEG', header_ok=True),
        truncated_jpeg())
    put(Kind('truncated.png', problem='corrupt or truncated PNG', header_ok=True),
        truncated_png())
    put(Kind('text.jpg', problem='not an image'), b'this is text, not a picture\n' * 4)
    put(Kind('bad_header.png', problem='corrupt PNG image (unreadable header)'),
        b'\x89PNG\r\n\x1a\n' + os.urandom(64))
    put(Kind('bomb.png', problem='refused: Image size (900000000 pixels)'), bomb_png())
    (folder / 'dangling.jpg').symlink_to(folder / 'nowhere.jpg')
    kinds.append(Kind('dangling.jpg', problem='cannot read: No such file or directory'))
    return {k.name: k for k in kinds}


def write_huge_jpeg(path: Path) -> Path:
    """An 8000x6000 JPEG (48 MP, about 0.3 MB: a smooth picture), made once per session."""
    h, w = HUGE_SHAPE
    img = np.empty((h, w, 3), np.uint8)
    img[...] = np.linspace(0, 255, w, dtype=np.float32).astype(np.uint8)[None, :, None]
    img[..., 2] = 90
    assert cv2.imwrite(str(path), img, [int(cv2.IMWRITE_JPEG_QUALITY), 80])
    return path


def make_unreadable(path: Path, monkeypatch) -> Path:
    """Make ``path`` unreadable to this process: mode 000, and as root (who reads any
    file) ``open`` and ``Path.open`` refusing it the way the OS would.

    Args:
        path (Path): An existing file.
        monkeypatch (pytest.MonkeyPatch): The test's monkeypatch.

    Returns:
        Path: ``path``.
    """
    path.chmod(0)
    if os.geteuid() == 0:
        import builtins
        real_path_open, real_open = Path.open, builtins.open
        locked = str(path.resolve())

        def refuse(file) -> None:
            if isinstance(file, (str, Path)) and os.path.realpath(file) == locked:
                raise PermissionError(13, 'Permission denied', str(file))

        def path_open(self, *args, **kwargs):
            refuse(self)
            return real_path_open(self, *args, **kwargs)

        def builtin_open(file, *args, **kwargs):
            refuse(file)
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(Path, 'open', path_open)
        monkeypatch.setattr(builtins, 'open', builtin_open)
    return path


def make_empty_det_root(tmp_path: Path) -> Path:
    """A detection-benchmark data root with no images: ``val.json`` and
    ``haze/val.json`` (one category, ``disk``) and an empty ``haze/images``."""
    import json
    root = tmp_path / 'det'
    for sub in ('val', 'haze/images'):
        (root / sub).mkdir(parents=True)
    ann = json.dumps(dict(images=[], annotations=[], categories=[dict(id=1, name='disk')]))
    (root / 'val.json').write_text(ann)
    (root / 'haze' / 'val.json').write_text(ann)
    return root
