"""A degraded copy of a COCO-style detection set: same annotations, degraded images."""
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import cv2
import numpy as np
from mmengine.registry import TRANSFORMS

from .image_files import ImageFileError, read_image, to_rgb8

RECORDS = 'degradations.jsonl'
#: The transform behind each single degradation kind (``mixed`` combines them).
DEGRADATION_TRANSFORMS = dict(haze='AddHaze', rain='AddRain', blur='AddBlur', noise='AddNoise')
#: Largest image degraded by default: AddHaze on 48 MP takes about 34 s and 4 GB.
MAX_PIXELS = 25_000_000


@dataclass
class DegradeReport:
    """What :func:`make_degraded_coco` did.

    Args:
        written (int): Images degraded in this run.
        resumed (int): Images already done by an earlier run, kept as they were.
        failed (list[str]): ``path: problem`` for every image that could not be done
            (left out of the annotation file), one line each.
        out_ann (Path, optional): The annotation file written.
    """

    written: int = 0
    resumed: int = 0
    failed: List[str] = field(default_factory=list)
    out_ann: Optional[Path] = None


def degradation_config(kind: str, severity: Optional[int] = None, seed: int = 0) -> dict:
    """The transform config that degrades a set one way.

    Args:
        kind (str): ``haze``, ``rain``, ``blur``, ``noise`` or ``mixed`` (the four,
            combined by ``AddMixedDegradation``).
        severity (int, optional): 1-5; None draws it per image. Defaults to None.
        seed (int): The draw depends only on (seed, image path). Defaults to 0.

    Returns:
        dict: For :func:`make_degraded_coco`.

    Raises:
        ValueError: If ``kind`` is unknown.
    """
    if kind == 'mixed':
        subs = [dict(type=t, severity=severity) for t in DEGRADATION_TRANSFORMS.values()]
        return dict(type='AddMixedDegradation', transforms=subs, seed=seed)
    if kind not in DEGRADATION_TRANSFORMS:
        raise ValueError(f'unknown degradation {kind!r}: one of '
                         f'{[*DEGRADATION_TRANSFORMS, "mixed"]}')
    return dict(type=DEGRADATION_TRANSFORMS[kind], severity=severity, seed=seed)


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def make_degraded_coco(ann_file: Path,
                       img_dir: Path,
                       out_dir: Path,
                       degradation: dict,
                       progress: bool = False,
                       overwrite: bool = False,
                       max_pixels: Optional[int] = MAX_PIXELS) -> DegradeReport:
    """Write degraded copies of every image of a COCO set, and the same annotations.

    Output: ``out_dir/images/<file_name>`` (same names, so the boxes stay valid),
    ``out_dir/<ann_file name>`` (the input json; each image entry gains
    ``degradations``, the parameters used), and ``out_dir/degradations.jsonl`` (one line
    per finished image, written as it finishes). A run that stops is resumed by running
    it again: images listed in the records file are kept, the rest are done.

    Images are decoded by content (a JPEG named ``.png`` is fine); grey, grey + alpha,
    RGBA, palette, 1-bit, CMYK and 16-bit images become 3-channel 8-bit (alpha dropped,
    16 bits rounded to 8) and are written so; the EXIF orientation is applied, so the
    image must then have the size the json gives it *as shown* (else it is reported:
    its boxes would not fit). Each image that cannot be done (missing, unreadable,
    empty, not an image, corrupt or truncated, larger than ``max_pixels``, of another
    size than the json says, an output that exists but is not in the records) is one
    line in ``report.failed``, is left out of the output json, and the run goes on.
    Nothing that exists is replaced without ``overwrite``: neither an image this
    degradation's records do not list, nor an annotation file without records.

    Args:
        ann_file (Path): COCO json.
        img_dir (Path): Folder the json's ``file_name`` entries are relative to.
        out_dir (Path): Output folder; must not be, or be inside, ``img_dir``.
        degradation (dict): A transform config, e.g. ``dict(type='AddHaze',
            severity=3, seed=0)``. Give it a ``seed`` for a reproducible set: the draw
            then depends only on (seed, image path).
        progress (bool): Show a progress bar. Defaults to False.
        overwrite (bool): Start afresh: forget the records of an earlier run and
            replace every output. Defaults to False.
        max_pixels (int, optional): Refuse, before decoding, images with more pixels
            (None: no limit but Pillow's 179 MP). Defaults to 25 MP.

    Returns:
        DegradeReport: Counts, failures and the annotation file.

    Raises:
        ValueError: If ``out_dir`` overlaps the source, the records belong to another
            degradation, or (without ``overwrite``) the output json exists without
            records.
        FileNotFoundError: If the annotation file or image folder is missing.
    """
    ann_file, img_dir, out_dir = Path(ann_file), Path(img_dir), Path(out_dir)
    if not ann_file.is_file():
        raise FileNotFoundError(f'{ann_file}: annotation file not found')
    if not img_dir.is_dir():
        raise FileNotFoundError(f'{img_dir}: image folder not found')
    if _inside(out_dir, img_dir) or _inside(img_dir, out_dir):
        raise ValueError(f'{out_dir}: refusing to write into (or around) the source images '
                         f'{img_dir}')
    if _inside(ann_file, out_dir):
        raise ValueError(f'{out_dir}: refusing to write next to the source annotations')
    coco = json.loads(ann_file.read_text())
    transform = TRANSFORMS.build(dict(degradation))
    records_path = out_dir / RECORDS
    out_ann = out_dir / ann_file.name
    if not overwrite and out_ann.exists() and not records_path.is_file():
        raise ValueError(f'{out_ann} exists and {records_path.name} does not: not made by '
                         'this tool; use another out_dir or pass overwrite (--overwrite)')
    (out_dir / 'images').mkdir(parents=True, exist_ok=True)
    done = {}
    if records_path.is_file() and not overwrite:
        for line in records_path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                if rec.get('config') != dict(degradation):
                    raise ValueError(
                        f'{records_path}: made with {rec.get("config")}, not {degradation}; '
                        'use another out_dir (or pass overwrite to start afresh)')
                done[rec['file_name']] = rec['degradations']
    report = DegradeReport()
    images = coco.get('images', [])
    iterator = images
    if progress:
        from tqdm import tqdm
        iterator = tqdm(images, desc='degrading', unit='img')
    failed = set()
    with open(records_path, 'w' if overwrite else 'a') as records:
        for info in iterator:
            name = info['file_name']
            target = out_dir / 'images' / name
            if name in done and target.is_file():
                report.resumed += 1
                continue
            src = img_dir / name
            try:
                res = _degrade_one(src, target, info, transform, overwrite, max_pixels)
            except ImageFileError as e:
                report.failed.append(str(e))
                failed.add(name)
                continue
            done[name] = res
            records.write(json.dumps(dict(file_name=name, config=dict(degradation),
                                          degradations=res)) + '\n')
            records.flush()
            report.written += 1
    kept = [dict(info, degradations=done[info['file_name']]) for info in images
            if info['file_name'] in done and info['file_name'] not in failed]
    kept_ids = {info['id'] for info in kept}
    out = dict(coco, images=kept,
               annotations=[a for a in coco.get('annotations', []) if a['image_id'] in kept_ids])
    report.out_ann = out_ann
    tmp = out_ann.with_suffix('.json.part')
    tmp.write_text(json.dumps(out))
    os.replace(tmp, out_ann)
    return report


def _degrade_one(src: Path, target: Path, info: dict, transform, overwrite: bool,
                 max_pixels: Optional[int]) -> list:
    """Degrade one image into ``target``; every problem is an ``ImageFileError``
    ``path: problem``. Returns the degradation parameters."""
    if target.exists() and not overwrite:
        raise ImageFileError(f'{target}: exists but is not in {RECORDS} (not made by this '
                             'degradation); pass --overwrite to replace it')
    try:
        rgb = to_rgb8(read_image(src, max_pixels))
    except ImageFileError as e:
        raise ImageFileError(f'{src}: {e}') from None
    h, w = rgb.shape[:2]
    if (h, w) != (info.get('height'), info.get('width')):
        raise ImageFileError(f'{src}: is {w}x{h} (as shown), the json says '
                             f'{info.get("width")}x{info.get("height")}')
    try:
        res = transform(dict(img=np.ascontiguousarray(rgb[..., ::-1]), img_path=str(src)))
    except (ValueError, RuntimeError, cv2.error, MemoryError) as e:  # one image, not the run
        reason = (str(e).strip().splitlines() or [''])[0][:200]
        raise ImageFileError(f'{src}: the degradation failed ({type(e).__name__}: '
                             f'{reason})') from None
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f'.part-{target.name}')
    try:
        try:
            ok = cv2.imwrite(str(tmp), res['img'], [int(cv2.IMWRITE_JPEG_QUALITY), 95])
        except cv2.error:
            ok = False
        if not ok:
            raise ImageFileError(f'{target}: could not be written (OpenCV cannot encode '
                                 f'{target.suffix or "a file without extension"})')
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return res['degradations']
