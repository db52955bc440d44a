"""A degraded copy of a COCO-style detection set: same annotations, degraded images."""
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import cv2
from mmengine.registry import TRANSFORMS

RECORDS = 'degradations.jsonl'


@dataclass
class DegradeReport:
    """What :func:`make_degraded_coco` did.

    Args:
        written (int): Images degraded in this run.
        resumed (int): Images already done by an earlier run, kept as they were.
        failed (list[str]): ``path: problem`` for every image that could not be done.
        out_ann (Path, optional): The annotation file written.
    """

    written: int = 0
    resumed: int = 0
    failed: List[str] = field(default_factory=list)
    out_ann: Optional[Path] = None


def _inside(path: Path, folder: Path) -> bool:
    path, folder = path.resolve(), folder.resolve()
    return path == folder or folder in path.parents


def make_degraded_coco(ann_file: Path,
                       img_dir: Path,
                       out_dir: Path,
                       degradation: dict,
                       progress: bool = False) -> DegradeReport:
    """Write degraded copies of every image of a COCO set, and the same annotations.

    Output: ``out_dir/images/<file_name>`` (same names, so the boxes stay valid),
    ``out_dir/<ann_file name>`` (the input json; each image entry gains
    ``degradations``, the parameters used), and ``out_dir/degradations.jsonl`` (one line
    per finished image, written as it finishes). A run that stops is resumed by running
    it again: images listed in the records file are kept, the rest are done.

    Args:
        ann_file (Path): COCO json.
        img_dir (Path): Folder the json's ``file_name`` entries are relative to.
        out_dir (Path): Output folder; must not be, or be inside, ``img_dir``.
        degradation (dict): A transform config, e.g. ``dict(type='AddHaze',
            severity=3, seed=0)``. Give it a ``seed`` for a reproducible set: the draw
            then depends only on (seed, image path).
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        DegradeReport: Counts, failures and the annotation file.

    Raises:
        ValueError: If ``out_dir`` overlaps the source, or the records belong to
            another degradation.
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
    (out_dir / 'images').mkdir(parents=True, exist_ok=True)
    records_path = out_dir / RECORDS
    done = {}
    if records_path.is_file():
        for line in records_path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                if rec.get('config') != dict(degradation):
                    raise ValueError(
                        f'{records_path}: made with {rec.get("config")}, not {degradation}; '
                        'use another out_dir')
                done[rec['file_name']] = rec['degradations']
    report = DegradeReport()
    images = coco.get('images', [])
    iterator = images
    if progress:
        from tqdm import tqdm
        iterator = tqdm(images, desc='degrading', unit='img')
    with open(records_path, 'a') as records:
        for info in iterator:
            name = info['file_name']
            target = out_dir / 'images' / name
            if name in done and target.is_file():
                report.resumed += 1
                continue
            src = img_dir / name
            img = cv2.imread(str(src), cv2.IMREAD_COLOR)
            if img is None:
                report.failed.append(f'{src}: missing or not decodable as an image')
                continue
            if (img.shape[0], img.shape[1]) != (info.get('height'), info.get('width')):
                report.failed.append(
                    f'{src}: is {img.shape[1]}x{img.shape[0]}, the json says '
                    f'{info.get("width")}x{info.get("height")}')
                continue
            res = transform(dict(img=img, img_path=str(src)))
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f'.part-{target.name}')
            if not cv2.imwrite(str(tmp), res['img'], [int(cv2.IMWRITE_JPEG_QUALITY), 95]):
                report.failed.append(f'{target}: could not be written')
                continue
            os.replace(tmp, target)
            done[name] = res['degradations']
            records.write(json.dumps(dict(file_name=name, config=dict(degradation),
                                          degradations=res['degradations'])) + '\n')
            records.flush()
            report.written += 1
    failed_names = {f.split(': ')[0] for f in report.failed}
    kept = [dict(info, degradations=done[info['file_name']]) for info in images
            if info['file_name'] in done and str(img_dir / info['file_name']) not in failed_names]
    kept_ids = {info['id'] for info in kept}
    out = dict(coco, images=kept,
               annotations=[a for a in coco.get('annotations', []) if a['image_id'] in kept_ids])
    report.out_ann = out_dir / ann_file.name
    tmp = report.out_ann.with_suffix('.json.part')
    tmp.write_text(json.dumps(out))
    os.replace(tmp, report.out_ann)
    return report
