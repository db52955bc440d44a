"""The detector's own data for an adaptation: checked (:func:`detector_data`), and
degraded copies of it (:func:`make_degraded_sets`)."""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

from mmengine.config import Config

from ...utils.constants import DEGRADATION_TYPES

__all__ = [
    'AdaptationError', 'CocoSplit', 'DegradedSets', 'DetectorData', 'MIN_IMAGES',
    'detector_data', 'make_degraded_sets'
]

#: Fewest annotated images per split by default: fewer tune nothing and measure noise.
MIN_IMAGES = dict(train=20, val=10)
#: mmdet's dataset wrappers, unwrapped to the COCO set inside (``dataset=``).
_WRAPPERS = ('RepeatDataset', 'ClassBalancedDataset', 'MultiImageMixDataset')


class AdaptationError(ValueError):
    """The detector's config or data cannot be adapted to; the message names the file."""


@dataclass
class CocoSplit:
    """One split of the detector's data, as its config gives it.

    Args:
        name (str): ``'train'`` or ``'val'``.
        ann_file (Path): The COCO annotation file.
        img_dir (Path): The folder its ``file_name`` entries are relative to.
        classes (tuple[str, ...]): Its category names, by category id.
        num_images (int): Images in the file.
        num_annotated (int): Images with at least one box of the detector's classes.
    """

    name: str
    ann_file: Path
    img_dir: Path
    classes: Tuple[str, ...]
    num_images: int
    num_annotated: int


@dataclass
class DetectorData:
    """The detector's classes and its train and val splits, checked.

    Args:
        config (Path): The detector's config.
        classes (tuple[str, ...]): The classes the detector predicts.
        train (CocoSplit): Its training split.
        val (CocoSplit): Its validation split.
    """

    config: Path
    classes: Tuple[str, ...]
    train: CocoSplit
    val: CocoSplit


def detector_data(det_config: Union[str, Path],
                  min_images: Optional[Dict[str, int]] = None) -> DetectorData:
    """Read and check the train and val COCO data of a detector config.

    Args:
        det_config (str | Path): The detector's MMDetection config.
        min_images (dict[str, int], optional): Fewest annotated images per split
            (``train``, ``val``). Defaults to None (:data:`MIN_IMAGES`).

    Returns:
        DetectorData: Its classes and both splits.

    Raises:
        AdaptationError: One line naming the file: the config is missing or has no
            ``train_dataloader`` / ``val_dataloader`` dataset, a dataset that is not
            COCO-style, a missing annotation file, image folder or image, a file that is
            not COCO annotations, classes that differ from the detector's (its dataset
            ``metainfo`` and the model's ``num_classes``) or between the splits, or too
            few annotated images in a split.
    """
    config = Path(det_config)
    if not config.is_file():
        raise AdaptationError(f'{config}: detector config not found')
    cfg = Config.fromfile(str(config))
    needed = dict(MIN_IMAGES, **(min_images or {}))
    splits, classes = {}, None
    for name in ('train', 'val'):
        dataset = _coco_dataset(cfg, config, name)
        wanted = _detector_classes(dataset, config, name)
        if classes is not None and wanted != classes:
            raise AdaptationError(f'{config}: train and val datasets name different classes '
                                  f'({list(classes)} vs {list(wanted)})')
        classes = wanted
        splits[name] = _read_split(dataset, config, name, classes, needed[name])
    _check_num_classes(cfg, config, classes)
    return DetectorData(config, classes, splits['train'], splits['val'])


def _coco_dataset(cfg: Config, config: Path, split: str) -> dict:
    """The COCO dataset config of ``<split>_dataloader`` (wrappers unwrapped)."""
    field = f'{split}_dataloader.dataset'
    dataset = (cfg.get(f'{split}_dataloader') or {}).get('dataset')
    while isinstance(dataset, dict) and dataset.get('type') in _WRAPPERS:
        dataset = dataset.get('dataset')
    if not isinstance(dataset, dict):
        raise AdaptationError(f'{config}: no {field}: the detector\'s own {split} data is '
                              'needed (COCO-style)')
    if not _is_coco(dataset.get('type'), cfg.get('default_scope', 'mmdet')):
        raise AdaptationError(f'{config}: {field} is {dataset.get("type")!r}, not a COCO-style '
                              'dataset (CocoDataset or a subclass); convert the data to COCO '
                              '(e.g. tools/dataset_converters/voc2coco.py)')
    return dataset


def _is_coco(kind, scope: str) -> bool:
    import mmdet.datasets  # noqa: F401  (registers mmdet's datasets)
    from mmdet.datasets import CocoDataset
    from mmdet.registry import DATASETS
    if isinstance(kind, type):
        return issubclass(kind, CocoDataset)
    with DATASETS.switch_scope_and_registry(scope) as registry:
        cls = registry.get(kind) if isinstance(kind, str) else None
    return cls is not None and issubclass(cls, CocoDataset)


def _detector_classes(dataset: dict, config: Path, split: str) -> Tuple[str, ...]:
    """The dataset's ``metainfo.classes``, else its class's own (COCO's 80)."""
    classes = (dataset.get('metainfo') or {}).get('classes')
    if classes is None:
        from mmdet.registry import DATASETS
        classes = DATASETS.get(dataset['type']).METAINFO['classes']
    if isinstance(classes, str) or not classes:
        raise AdaptationError(f'{config}: {split}_dataloader.dataset.metainfo.classes must be a '
                              f'non-empty list of names, got {classes!r}')
    return tuple(classes)


def _join(root: Optional[str], path: str) -> Path:
    """A dataset path as mmengine's ``BaseDataset`` resolves it (under ``data_root``,
    from the working folder), made absolute."""
    return Path(path if root is None or osp.isabs(path) else osp.join(root, path)).absolute()


def _read_split(dataset: dict, config: Path, split: str, classes: Tuple[str, ...],
                needed: int) -> CocoSplit:
    field = f'{split}_dataloader.dataset'
    root = dataset.get('data_root')
    if not dataset.get('ann_file'):
        raise AdaptationError(f'{config}: {field} has no ann_file (COCO annotations needed)')
    ann = _join(root, dataset['ann_file'])
    prefix = dataset.get('data_prefix') or {}
    img_dir = _join(root, prefix.get('img', prefix.get('img_path', '')))
    if not ann.is_file():
        raise AdaptationError(f'{ann}: not found ({field}.ann_file of {config})')
    if not img_dir.is_dir():
        raise AdaptationError(f'{img_dir}: image folder not found ({field}.data_prefix of '
                              f'{config})')
    try:
        coco = json.loads(ann.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise AdaptationError(f'{ann}: not valid JSON ({e})') from None
    if not isinstance(coco, dict) or not all(
            isinstance(coco.get(k), list) for k in ('images', 'annotations', 'categories')):
        raise AdaptationError(f'{ann}: not COCO annotations (needs lists images, annotations '
                              'and categories)')
    own = tuple(c.get('name') for c in sorted(coco['categories'], key=lambda c: c.get('id', 0)))
    extra = [n for n in own if n not in classes]
    missing = [c for c in classes if c not in own]
    if extra or missing:
        raise AdaptationError(
            f'{ann}: its categories do not match the detector\'s classes '
            f'({"not in the detector: " + str(extra) if extra else ""}'
            f'{"; " if extra and missing else ""}'
            f'{"not in the file: " + str(missing) if missing else ""}; the detector\'s are '
            f'{field}.metainfo.classes of {config})')
    lost = [im['file_name'] for im in coco['images']
            if not (img_dir / im.get('file_name', '')).is_file()]
    if lost:
        raise AdaptationError(f'{img_dir}: {len(lost)} of the {len(coco["images"])} images '
                              f'of {ann.name} are missing (first: {lost[0]})')
    boxed = {a.get('image_id') for a in coco['annotations'] if not a.get('iscrowd', 0)}
    annotated = sum(im.get('id') in boxed for im in coco['images'])
    if annotated < needed:
        raise AdaptationError(f'{ann}: {annotated} {split} images with boxes, at least '
                              f'{needed} needed to adapt on')
    return CocoSplit(split, ann, img_dir, own, len(coco['images']), annotated)


def _check_num_classes(cfg: Config, config: Path, classes: Tuple[str, ...]) -> None:
    """Every ``num_classes`` of the model (the RPN's one class aside) must be the
    number of classes."""
    found = set()

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == 'num_classes' and isinstance(value, int):
                    found.add(value)
                elif key != 'rpn_head':
                    walk(value)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value)

    walk(cfg.get('model', {}))
    wrong = sorted(n for n in found if n != len(classes))
    if wrong:
        raise AdaptationError(f'{config}: model num_classes {wrong[0]} but {len(classes)} '
                              f'classes in the data ({list(classes)})')


@dataclass
class DegradedSets:
    """Where :func:`make_degraded_sets` wrote, and what it did.

    Args:
        bench_root (Path): The benchmark's data root: ``val.json`` + ``val/`` (the clean
            val set), ``<kind>/val.json`` + ``<kind>/images/`` (its degraded copies).
        train (dict[str, Path]): Per kind, the degraded train set's annotation file
            (its images in ``images/`` next to it).
        written (int): Images degraded in this call.
        resumed (int): Images kept from an earlier call.
    """

    bench_root: Path
    train: Dict[str, Path] = field(default_factory=dict)
    written: int = 0
    resumed: int = 0


def make_degraded_sets(data: DetectorData,
                       out_dir: Union[str, Path],
                       kinds: Sequence[str] = DEGRADATION_TYPES,
                       seed: int = 0,
                       severity: Optional[int] = None,
                       progress: bool = False,
                       with_train: bool = True) -> DegradedSets:
    """Degraded copies of the detector's train and val sets, one per kind.

    Written with :func:`~uniremoval_mm.datasets.degrade_coco.make_degraded_coco`: the
    same boxes, the draw fixed by (``seed``, image path), resumed where an earlier call
    stopped. Layout: ``out_dir/bench/`` is the benchmark's data root (the clean val
    images linked as ``val``, never copied) and ``out_dir/train/<kind>/`` holds each
    degraded train set.

    Args:
        data (DetectorData): From :func:`detector_data`.
        out_dir (str | Path): Where to write; must not hold the source images.
        kinds (Sequence[str]): Of ``haze``, ``rain``, ``blur``, ``noise``, ``mixed``.
            Defaults to all five.
        seed (int): Seed of the degradations. Defaults to 0.
        severity (int, optional): 1-5; None draws it per image. Defaults to None.
        progress (bool): Show progress bars. Defaults to False.
        with_train (bool): Also degrade the train set (joint fine-tuning trains on it;
            frozen tuning degrades on the fly). Defaults to True.

    Returns:
        DegradedSets: The folders and the counts.

    Raises:
        AdaptationError: One line naming the file or folder: an unknown kind, an
            ``out_dir`` that overlaps the source or holds another degradation's files,
            or an image that could not be degraded.
    """
    from ...datasets.degrade_coco import degradation_config, make_degraded_coco
    out_dir = Path(out_dir)
    unknown = [k for k in kinds if k not in DEGRADATION_TYPES]
    if unknown:
        raise AdaptationError(f'unknown degradation {unknown[0]!r}: one of '
                              f'{list(DEGRADATION_TYPES)}')
    for split in (data.train, data.val):  # checked before anything is written
        src, out = split.img_dir.resolve(), out_dir.resolve()
        if src == out or src in out.parents or out in src.parents:
            raise AdaptationError(f'{out_dir}: refusing to write into (or around) the source '
                                  f'images {split.img_dir}')
    bench = out_dir / 'bench'
    bench.mkdir(parents=True, exist_ok=True)
    clean = bench / 'val'
    if not clean.exists():
        os.symlink(data.val.img_dir.resolve(), clean, target_is_directory=True)
    elif clean.resolve() != data.val.img_dir.resolve():
        raise AdaptationError(f'{clean}: holds another val set than {data.val.img_dir}; use '
                              'another output folder')
    _write_json_atomically(bench / 'val.json', data.val.ann_file.read_text())
    result = DegradedSets(bench)
    for kind in kinds:
        cfg = degradation_config(kind, severity, seed)
        todo = [(data.val, bench / kind)]
        if with_train:
            todo.append((data.train, out_dir / 'train' / kind))
        for split, target in todo:
            try:
                report = make_degraded_coco(split.ann_file, split.img_dir, target, cfg,
                                            progress=progress)
            except (FileNotFoundError, ValueError) as e:
                raise AdaptationError(str(e)) from None
            if report.failed:
                raise AdaptationError(f'{report.failed[0]} ({len(report.failed)} images of '
                                      f'{split.ann_file} could not be degraded)')
            result.written += report.written
            result.resumed += report.resumed
            if target.parent.name == 'train':
                result.train[kind] = report.out_ann
            elif report.out_ann.name != 'val.json':  # the name the benchmark reads
                _write_json_atomically(target / 'val.json', report.out_ann.read_text())
    return result


def _write_json_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f'.{path.name}.part')
    tmp.write_text(text)
    os.replace(tmp, path)
