"""Fitting the restorer to a user's detector (``tools/adapt_restorer.py``).

Two ways, each one call that resumes where a crash stopped it, each ending in a report
of bbox mAP on the detector's clean and degraded val images:

- :func:`adapt_frozen`: the shipped student tuned against the frozen detector's feature
  maps (detection-aware IGCL with the clean-identity term); writes the student and a
  detector config delta that uses it.
- :func:`adapt_joint`: the detector fine-tuned with the student in front, and a control
  fine-tuned without it; writes the fine-tuned detector and its config.

Their steps are public: :func:`detector_data` checks the detector's COCO-style train and
val data (every problem one :class:`AdaptationError` line naming the file),
:func:`make_degraded_sets` writes degraded copies of the data (seeded, resumable, never
into the source; val laid out for :mod:`uniremoval_mm.evaluation.detection_benchmark`),
:func:`frozen_tuning_config` (with :func:`detector_taps`) and :func:`joint_tuning_config`
write the training configs, :func:`seconds_per_iteration` times the tuning,
:func:`release_student` and :func:`adapted_config` write the results.
"""
import json
import os
import os.path as osp
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

from mmengine.config import Config

from ..utils.constants import DEGRADATION_TYPES

__all__ = [
    'AdaptationError', 'AdaptationResult', 'CocoSplit', 'DegradedSets', 'DetectorData',
    'MIN_IMAGES', 'adapt_frozen', 'adapt_joint', 'adapted_config', 'detector_data',
    'detector_taps', 'frozen_tuning_config', 'joint_tuning_config', 'make_degraded_sets',
    'release_student', 'seconds_per_iteration'
]

#: The repository's configs (the tuning recipe is a ``_base_`` there).
CONFIGS = Path(__file__).resolve().parents[2] / 'configs'
#: The student tuning starts from by default.
SHIPPED_STUDENT = CONFIGS.parent / 'checkpoints' / 'uniremoval-net-s_stage1-cpu.pth'
#: The tuning run's progress (``ProgressHook``), under its work dir.
PROGRESS_FILE = 'progress.json'
#: IGCL's weight of a backbone and of a neck feature map (the neck is what heads read).
TAP_WEIGHTS = dict(backbone=0.5, neck=1.0)

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
    from ..datasets.degrade_coco import degradation_config, make_degraded_coco
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


def detector_taps(det_config: Union[str, Path],
                  det_checkpoint: str) -> Tuple[Tuple[str, ...], Tuple[float, ...]]:
    """The detector's feature maps that detection-aware tuning pulls together.

    Every backbone output (``backbone.k``) and, where the detector has a neck, every neck
    output (``neck.k``), weighted as :data:`TAP_WEIGHTS`. Found by running the detector,
    loaded from ``det_checkpoint``, on one small image.

    Args:
        det_config (str | Path): The detector's config.
        det_checkpoint (str): Its weights.

    Returns:
        tuple: The taps and their IGCL weights.

    Raises:
        AdaptationError: If the checkpoint does not load into the detector, or the
            detector already has a restorer in front (adapt its plain config).
    """
    import torch

    from ..models.losses.detector_features import DetectorFeatureExtractor
    from ..utils.checkpoint import CheckpointError
    cfg = Config.fromfile(str(det_config))
    try:
        extractor = DetectorFeatureExtractor(str(det_config), det_checkpoint,
                                             use_neck=bool(cfg.model.get('neck')))
    except CheckpointError as e:
        raise AdaptationError(str(e)) from None
    except ValueError as e:
        raise AdaptationError(f'{det_config}: {e}') from None
    with torch.no_grad():
        _, found = extractor(torch.zeros(1, 3, 64, 64), return_features=True)
    taps = tuple(sorted(found, key=lambda t: (t.split('.')[0] != 'backbone',
                                              int(t.split('.')[1]))))
    return taps, tuple(TAP_WEIGHTS[t.split('.')[0]] for t in taps)


def frozen_tuning_config(data: DetectorData,
                         det_checkpoint: str,
                         work_dir: Union[str, Path],
                         max_iters: int = 400,
                         seed: int = 0,
                         student_checkpoint: Optional[str] = None,
                         taps: Optional[Tuple[Tuple[str, ...], Tuple[float, ...]]] = None
                         ) -> str:
    """The text of a config that tunes the student against the frozen detector.

    A delta on ``configs/ablations/stage1_detaware_tune.py`` (detection-aware IGCL with
    the clean-identity term, no teachers, the detector's weights never change): the
    detector, its checkpoint and feature maps, and its training images (degraded on the
    fly, one kind per crop) instead of the demo's; no validation during the run (the
    benchmark measures the result); its progress in ``<work_dir>/progress.json``
    (:class:`~uniremoval_mm.engine.hooks.ProgressHook`). Run it with ``tools/train.py``.

    Args:
        data (DetectorData): From :func:`detector_data`.
        det_checkpoint (str): The detector's weights.
        work_dir (str | Path): The run's work dir.
        max_iters (int): Iterations (the documented result: 400). Defaults to 400.
        seed (int): The run's seed. Defaults to 0.
        student_checkpoint (str, optional): The student to start from. Defaults to None
            (the shipped ``checkpoints/uniremoval-net-s_stage1-cpu.pth``).
        taps (tuple, optional): :func:`detector_taps`' result. Defaults to None (found
            now).

    Returns:
        str: The config text.

    Raises:
        AdaptationError: As :func:`detector_taps`, or for ``max_iters`` < 1.
    """
    if isinstance(max_iters, bool) or not isinstance(max_iters, int) or max_iters < 1:
        raise AdaptationError(f'max_iters must be an int >= 1, got {max_iters!r}')
    layers, weights = taps or detector_taps(data.config, det_checkpoint)
    base = CONFIGS / 'ablations' / 'stage1_detaware_tune.py'
    student = student_checkpoint or SHIPPED_STUDENT
    lines = [
        f'_base_ = {str(base)!r}',
        f'experiment_name = {Path(work_dir).name!r}',
        f'work_dir = {str(Path(work_dir).resolve())!r}',
        f'max_iters = {max_iters}',
        f'det_config = {str(data.config.resolve())!r}',
        f'det_checkpoint = {str(Path(det_checkpoint).resolve())!r}',
        f'det_layers = {layers!r}',
        'model = dict(',
        f'    init_checkpoint={str(Path(student).resolve())!r},',
        '    igcl=dict(extractor=dict(config=det_config, checkpoint=det_checkpoint,',
        '                             taps=det_layers),',
        f'              layers=det_layers, layer_weights={weights!r}))',
        'train_dataloader = dict(',
        f'    dataset=dict(data_root={str(data.train.img_dir.resolve())!r}))',
        'train_cfg = dict(max_iters=max_iters, val_interval=max_iters)',
        'val_dataloader = None',
        'val_evaluator = None',
        'val_cfg = None',
        'param_scheduler = dict(T_max=max_iters)',
        'default_hooks = dict(checkpoint=dict(interval=max(1, max_iters // 4), '
        'max_keep_ckpts=2))',
        f'custom_hooks = [dict(type={"ProgressHook"!r}, bar=False, '
        f'progress_file={PROGRESS_FILE!r})]',
        f'randomness = dict(seed={seed})',
    ]
    return '\n'.join(lines) + '\n'


def release_student(checkpoint: Union[str, Path], out_file: Union[str, Path]) -> Path:
    """The student of a tuning checkpoint, weights only (float32), written atomically.

    Args:
        checkpoint (str | Path): A tuning run's checkpoint (``generator.`` keys).
        out_file (str | Path): The file to write.

    Returns:
        Path: ``out_file``.

    Raises:
        AdaptationError: If the checkpoint is unreadable or holds no student.
    """
    from ..utils.checkpoint import (CheckpointError, atomic_torch_save, load_external_checkpoint,
                                    remap_state_dict)
    try:
        raw = load_external_checkpoint(str(checkpoint))
    except CheckpointError as e:
        raise AdaptationError(str(e)) from None
    if not any(k.startswith('generator.') for k in raw.get('state_dict', {})):
        raise AdaptationError(f'{checkpoint}: no generator.* weights (not a tuning checkpoint)')
    state = remap_state_dict(raw)
    meta = dict(source=str(checkpoint), iter=(raw.get('meta') or {}).get('iter'))
    atomic_torch_save(dict(state_dict=state, meta=meta), out_file)
    return Path(out_file)


def adapted_config(det_config: Union[str, Path], student: Union[str, Path],
                   restorer_type: str = 'mmagic.UniRemovalNetS') -> str:
    """The text of a detector config that puts the adapted student in front.

    A ``_base_`` delta on ``det_config``: only ``model.data_preprocessor`` changes (its
    type and the restorer); ``mean``, ``std``, ``bgr_to_rgb`` and padding come from the
    base through merging.

    Args:
        det_config (str | Path): The detector's config.
        student (str | Path): The adapted student's weights.
        restorer_type (str): The student's network. Defaults to
            ``'mmagic.UniRemovalNetS'``.

    Returns:
        str: The config text.
    """
    pre = dict(type='UniRemovalPreprocessor', restorer=dict(type=restorer_type),
               restorer_checkpoint=str(Path(student).resolve()))
    return (f'_base_ = {str(Path(det_config).resolve())!r}\n'
            "custom_imports = dict(imports=['uniremoval_mm'], allow_failed_imports=False)\n"
            f'model = dict(data_preprocessor={pre!r})\n')


@dataclass
class AdaptationResult:
    """What :func:`adapt_frozen` wrote.

    Args:
        student (Path): The adapted student (weights only).
        config (Path): The detector config that uses it.
        report (Path): The markdown report (``.json`` and ``.png`` next to it).
        rows (list[dict]): The benchmark's rows.
    """

    student: Path
    config: Path
    report: Path
    rows: list


def adapt_frozen(det_config: Union[str, Path],
                 det_checkpoint: str,
                 out_dir: Union[str, Path],
                 kinds: Sequence[str] = DEGRADATION_TYPES,
                 max_iters: int = 400,
                 seed: int = 0,
                 min_images: Optional[Dict[str, int]] = None,
                 jobs: int = 1,
                 minutes: Optional[float] = None,
                 log=print) -> AdaptationResult:
    """Fit the student to a frozen detector, and measure what it buys.

    Steps, each resumed where an earlier call stopped: check the detector's data
    (:func:`detector_data`), degrade its val set (:func:`make_degraded_sets`), tune the
    shipped student against the detector's features for ``max_iters`` iterations
    (:func:`frozen_tuning_config`, run by ``tools/train.py``; its checkpoints are
    atomic and ``--resume`` passes over a torn one), release the tuned student
    (:func:`release_student`), write a detector config that uses it
    (:func:`adapted_config`), and benchmark the detector on the clean and degraded val
    sets raw, with the shipped student and with the adapted one
    (:mod:`~uniremoval_mm.evaluation.detection_benchmark`; report ``report.md`` /
    ``.json`` / ``.png``).

    Args:
        det_config (str | Path): The detector's config (COCO-style train / val data).
        det_checkpoint (str): Its weights.
        out_dir (str | Path): Where everything goes.
        kinds (Sequence[str]): Degradations to measure. Defaults to all five.
        max_iters (int): Tuning iterations. Defaults to 400.
        seed (int): Seed of the tuning and of the degraded sets. Defaults to 0.
        min_images (dict[str, int], optional): See :func:`detector_data`.
        jobs (int): Benchmark test runs at a time. Defaults to 1.
        minutes (float, optional): A time budget for the tuning: a few iterations are
            timed first (:func:`seconds_per_iteration`, once per ``out_dir``: kept in
            ``timing.json``) and ``max_iters`` becomes what fits. Defaults to None
            (``max_iters`` as given).
        log (Callable[[str], None]): Told what each step does. Defaults to ``print``.

    Returns:
        AdaptationResult: The files written and the benchmark's rows.

    Raises:
        AdaptationError: One line naming the file, for the checks of each step, or if
            the tuning run fails.
        BenchmarkError: If a test run of the benchmark fails.
    """
    from ..evaluation import detection_benchmark as bench
    from ..utils.checkpoint import latest_checkpoint
    out_dir = Path(out_dir)
    data = detector_data(det_config, min_images)
    if not Path(det_checkpoint).is_file():
        raise AdaptationError(f'{det_checkpoint}: detector checkpoint not found')
    log(f'{data.config}: {len(data.classes)} classes, {data.train.num_annotated} train and '
        f'{data.val.num_annotated} val images with boxes')
    sets = make_degraded_sets(data, out_dir / 'data', kinds, seed=seed, with_train=False)
    log(f'degraded val sets in {sets.bench_root}: {sets.written} images degraded, '
        f'{sets.resumed} kept from before')
    if minutes is not None:
        timing = out_dir / 'timing.json'  # kept: a second call tunes (resumes) as many
        if timing.is_file():
            rate = json.loads(timing.read_text())['seconds_per_iteration']
        else:
            rate = seconds_per_iteration(data, det_checkpoint, out_dir / 'timing', seed)
            _write_json_atomically(timing, json.dumps(dict(seconds_per_iteration=rate)))
        max_iters = max(1, int(minutes * 60 / rate))
        log(f'tuning: {rate:.2f} s per iteration here, so {max_iters} iterations fit in '
            f'{minutes:g} min')
    name = f'tune_i{max_iters}_s{seed}'  # another setting never resumes this one
    tune_dir, tune_cfg, tune_log = out_dir / name, out_dir / f'{name}.py', out_dir / f'{name}.log'
    tune_cfg.parent.mkdir(parents=True, exist_ok=True)
    text = frozen_tuning_config(data, det_checkpoint, tune_dir, max_iters, seed)
    tune_cfg.write_text(text)
    done = latest_checkpoint(tune_dir)
    if not _finished(done, f'iter_{max_iters}.pth'):
        log(f'tuning {max_iters} iterations (log: {tune_log})')
        _train(tune_cfg, tune_dir, tune_log, max_iters, resume=done is not None, log=log)
        done = latest_checkpoint(tune_dir)
    student = release_student(done, out_dir / f'adapted_student_{name[5:]}.pth')
    config = out_dir / f'{data.config.stem}_adapted.py'
    config.write_text(adapted_config(data.config, student))
    log(f'adapted student: {student}; detector config using it: {config}')
    runs = bench.plan_runs(
        data.config, det_checkpoint, sets.bench_root, ['clean', *kinds], bench.MODES,
        {'shipped': str(SHIPPED_STUDENT), 'adapted': str(student)}, {},
        bench.restorer_config('UniRemovalNetS'), out_dir / 'benchmark', label='adapt')
    rows = bench.measure_runs(runs, jobs, reuse=True, report=log)
    record = dict(config=str(data.config), checkpoint=det_checkpoint, mode='frozen',
                  max_iters=max_iters, seed=seed, kinds=list(kinds),
                  students=dict(shipped=str(SHIPPED_STUDENT), adapted=str(student)))
    md = bench.write_report(rows, ['shipped', 'adapted'], out_dir, 'report', record,
                            plot=out_dir / 'report.png')
    log(md)
    return AdaptationResult(student, config, out_dir / 'report.md', rows)


def _finished(checkpoint: Optional[str], last: str) -> bool:
    """Whether a run's latest checkpoint is its last one, and readable (else the run is
    resumed: ``tools/train.py --resume`` passes over a torn checkpoint)."""
    from ..utils.checkpoint import checkpoint_problem
    return (checkpoint is not None and Path(checkpoint).name == last
            and checkpoint_problem(checkpoint) is None)


def _train(config: Path, work_dir: Path, log_file: Path, total: int,
           resume: bool = False, extra: Sequence[str] = (), log=print) -> None:
    """``tools/train.py config`` in a subprocess (its output to ``log_file``), with a
    progress bar drawn from the run's ``progress.json``. ``resume``: from the work dir's
    newest readable checkpoint, or from the start where none is."""
    import subprocess
    import sys
    import time

    from tqdm import tqdm

    from ..utils.checkpoint import CheckpointError, resume_checkpoint
    cmd = [sys.executable, str(CONFIGS.parent / 'tools' / 'train.py'), str(config), *extra]
    if resume:
        try:
            resume_checkpoint(work_dir)
            cmd.append('--resume')
        except CheckpointError as e:
            log(f'{e}: starting it again')
    progress = work_dir / PROGRESS_FILE
    with open(log_file, 'a') as out, tqdm(total=total, desc='tuning', unit='it',
                                          dynamic_ncols=True, disable=None) as bar:
        # in this process' folder: the detector config's relative paths are relative to it
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            time.sleep(1)
            try:
                state = json.loads(progress.read_text())
            except (OSError, ValueError):  # not written yet
                continue
            if state.get('phase') == 'train':
                bar.update(max(0, int(state.get('done') or 0) - bar.n))
    if proc.returncode != 0:
        tail = log_file.read_text().strip().splitlines()[-1:]
        raise AdaptationError(f'{config}: tuning failed (exit {proc.returncode}: '
                              f'{tail[0] if tail else "no output"}; see {log_file})')


def seconds_per_iteration(data: DetectorData, det_checkpoint: str,
                          work_dir: Union[str, Path], seed: int = 0, iters: int = 4) -> float:
    """Time the frozen tuning's iterations on this machine.

    Runs :func:`frozen_tuning_config` for ``iters`` iterations in ``work_dir`` (no
    checkpoints kept) and takes the median logged time of the iterations after the
    first (which pays for warm-up).

    Args:
        data (DetectorData): From :func:`detector_data`.
        det_checkpoint (str): The detector's weights.
        work_dir (str | Path): A scratch work dir.
        seed (int): The run's seed. Defaults to 0.
        iters (int): Iterations to run, >= 2. Defaults to 4.

    Returns:
        float: Seconds per iteration.

    Raises:
        AdaptationError: If the timing run fails.
    """
    import statistics

    from ..utils.training_logs import read_scalars
    work_dir = Path(work_dir)
    if work_dir.exists():
        import shutil
        shutil.rmtree(work_dir)  # a fresh timing, never a resumed one
    work_dir.mkdir(parents=True)
    config = work_dir.with_suffix('.py')
    config.write_text(frozen_tuning_config(data, det_checkpoint, work_dir, iters, seed))
    _train(config, work_dir, work_dir.with_suffix('.log'), iters,
           extra=['--cfg-options', 'default_hooks.logger.interval=1',
                  'default_hooks.checkpoint.save_last=False',
                  f'default_hooks.checkpoint.interval={iters + 1}'])
    from ..utils.errors import UsageError
    try:
        records = read_scalars(work_dir)
    except UsageError as e:
        raise AdaptationError(str(e)) from None
    times = [r['time'] for r in records if 'time' in r][1:]
    if not times:
        raise AdaptationError(f'{work_dir}: the timing run logged no iteration times')
    return float(statistics.median(times))


#: The joint recipe (``configs/detection/rtmdet-tiny_demo-shapes300_uniremoval-s_joint.py``,
#: measured with RTMDet-tiny): the detector's own lr times this, ...
JOINT_LR_FACTOR = 0.125
#: ... a linear warm-up of one epoch from 1 % of it, then a cosine to 5 % of it.
JOINT_WARMUP_FROM, JOINT_LR_END = 0.01, 0.05
#: What degrades each training image on the fly: one or two of the four kinds.
JOINT_DEGRADE = dict(type='AddMixedDegradation', num_range=(1, 2),
                     transforms=[dict(type=t) for t in ('AddHaze', 'AddRain', 'AddBlur',
                                                        'AddNoise')])


def _train_dataset_path(cfg: Config) -> Tuple[List[str], dict]:
    """The keys from ``train_dataloader`` to the COCO dataset (through wrappers)."""
    keys, dataset = ['dataset'], cfg.train_dataloader.dataset
    while dataset.get('type') in _WRAPPERS:
        keys.append('dataset')
        dataset = dataset.dataset
    return keys, dataset


def joint_tuning_config(data: DetectorData,
                        det_checkpoint: str,
                        work_dir: Union[str, Path],
                        epochs: int = 4,
                        seed: int = 0,
                        restorer: bool = True,
                        student_checkpoint: Optional[str] = None,
                        batch_size: Optional[int] = None) -> str:
    """The text of a config that fine-tunes the detector with the student in front.

    A delta on the detector's config: its training images degraded on the fly
    (:data:`JOINT_DEGRADE`, inserted after ``LoadAnnotations``), the detector started from
    ``det_checkpoint``, the student (trainable, with the regulariser
    ``restorer.loss_reg`` of weight 0.1 and :class:`RestorerLossHook`) in front, and the
    joint schedule (:data:`JOINT_LR_FACTOR`, one warm-up epoch, cosine decay; ``epochs``
    epochs, validated on the clean val set at the end). The detector's own
    ``custom_hooks`` (EMA, pipeline switches) are dropped. ``restorer=False`` gives the
    control: the same fine-tuning without a restorer.

    Args:
        data (DetectorData): From :func:`detector_data`.
        det_checkpoint (str): The detector's weights, fine-tuned from.
        work_dir (str | Path): The run's work dir.
        epochs (int): Epochs (the documented result: 4). Defaults to 4.
        seed (int): The run's seed. Defaults to 0.
        restorer (bool): Put the student in front (False: the control). Defaults to True.
        student_checkpoint (str, optional): The student. Defaults to None (the shipped
            one).
        batch_size (int, optional): Training batch size (the documented RTMDet-tiny
            recipe: 8). Defaults to None (the detector config's).

    Returns:
        str: The config text.

    Raises:
        AdaptationError: If ``epochs`` or ``batch_size`` < 1, or the training pipeline
            has no ``LoadAnnotations`` to degrade after.
    """
    import math
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise AdaptationError(f'epochs must be an int >= 1, got {epochs!r}')
    cfg = Config.fromfile(str(data.config))
    keys, dataset = _train_dataset_path(cfg)
    pipeline = [dict(t) for t in dataset.get('pipeline', [])]
    at = next((i for i, t in enumerate(pipeline)
               if str(t.get('type', '')).endswith('LoadAnnotations')), None)
    if at is None:
        raise AdaptationError(f'{data.config}: the training pipeline has no LoadAnnotations '
                              'to degrade the images after')
    pipeline.insert(at + 1, JOINT_DEGRADE)
    nested = dict(pipeline=pipeline)
    for _ in keys[1:]:
        nested = dict(dataset=nested)
    if batch_size is not None and (isinstance(batch_size, bool)
                                   or not isinstance(batch_size, int) or batch_size < 1):
        raise AdaptationError(f'batch_size must be an int >= 1, got {batch_size!r}')
    batch = batch_size or int(cfg.train_dataloader.get('batch_size', 1))
    warmup = max(1, math.ceil(data.train.num_images / batch))  # one epoch
    lr = cfg.optim_wrapper.optimizer.lr * JOINT_LR_FACTOR
    work_dir = Path(work_dir)
    lines = [
        f'_base_ = {str(data.config.resolve())!r}',
        "custom_imports = dict(imports=['uniremoval_mm'], allow_failed_imports=False)",
        f'experiment_name = {work_dir.name!r}',
        f'work_dir = {str(work_dir.resolve())!r}',
        f'load_from = {str(Path(det_checkpoint).resolve())!r}',
        f'train_dataloader = dict(batch_size={batch}, dataset={nested!r})',
        f'train_cfg = dict(_delete_=True, type={"EpochBasedTrainLoop"!r}, max_epochs={epochs}, '
        f'val_interval={epochs})',
        f'optim_wrapper = dict(optimizer=dict(lr={lr!r}))',
        'param_scheduler = [',
        f'    dict(type={"LinearLR"!r}, start_factor={JOINT_WARMUP_FROM}, by_epoch=False, '
        f'begin=0, end={warmup}),',
    ]
    if epochs > 1:
        lines.append(f'    dict(type={"CosineAnnealingLR"!r}, eta_min={lr * JOINT_LR_END!r}, '
                     f'begin=1, end={epochs}, T_max={epochs - 1}, by_epoch=True, '
                     'convert_to_iter_based=True),')
    lines += [
        ']',
        'default_hooks = dict(checkpoint=dict(_delete_=True, type={0!r}, interval=1, '
        'by_epoch=True, max_keep_ckpts=2))'.format('CheckpointHook'),
        f'randomness = dict(seed={seed})',
    ]
    hooks = [dict(type='ProgressHook', bar=False, progress_file=PROGRESS_FILE)]
    if restorer:
        student = student_checkpoint or SHIPPED_STUDENT
        pre = dict(type='UniRemovalPreprocessor', restorer=dict(type='mmagic.UniRemovalNetS'),
                   restorer_checkpoint=str(Path(student).resolve()), freeze=False,
                   reg_weight=0.1)
        lines.append(f'model = dict(data_preprocessor={pre!r})')
        hooks.append(dict(type='RestorerLossHook'))
    lines.append(f'custom_hooks = {hooks!r}')
    return '\n'.join(lines) + '\n'


def adapt_joint(det_config: Union[str, Path],
                det_checkpoint: str,
                out_dir: Union[str, Path],
                kinds: Sequence[str] = DEGRADATION_TYPES,
                epochs: int = 4,
                seed: int = 0,
                min_images: Optional[Dict[str, int]] = None,
                jobs: int = 1,
                control: bool = True,
                batch_size: Optional[int] = None,
                log=print) -> AdaptationResult:
    """Fine-tune the detector and the student together, and measure what it buys.

    Steps, each resumed where an earlier call stopped: check the detector's data
    (:func:`detector_data`), degrade its val set (:func:`make_degraded_sets`), fine-tune
    the detector with the student in front (:func:`joint_tuning_config`, by
    ``tools/train.py``) and, with ``control``, without it on the same degraded images,
    and benchmark on the clean and degraded val sets: the detector as it was (raw), the
    joint one and the control, paired against the control (report ``report.md`` /
    ``.json`` / ``.png``).

    Args:
        det_config (str | Path): The detector's config (COCO-style train / val data).
        det_checkpoint (str): Its weights.
        out_dir (str | Path): Where everything goes.
        kinds (Sequence[str]): Degradations to measure. Defaults to all five.
        epochs (int): Fine-tuning epochs. Defaults to 4.
        seed (int): Seed of the runs and of the degraded sets. Defaults to 0.
        min_images (dict[str, int], optional): See :func:`detector_data`.
        jobs (int): Benchmark test runs at a time. Defaults to 1.
        control (bool): Also fine-tune the control. Defaults to True.
        batch_size (int, optional): See :func:`joint_tuning_config`. Defaults to None.
        log (Callable[[str], None]): Told what each step does. Defaults to ``print``.

    Returns:
        AdaptationResult: ``student`` is the fine-tuned detector's checkpoint (the
        student inside), ``config`` the config that runs it; the report and rows.

    Raises:
        AdaptationError: One line naming the file, for the checks of each step, or if a
            fine-tuning run fails.
        BenchmarkError: If a test run of the benchmark fails.
    """
    import math

    from ..evaluation import detection_benchmark as bench
    from ..utils.checkpoint import latest_checkpoint
    out_dir = Path(out_dir)
    data = detector_data(det_config, min_images)
    if not Path(det_checkpoint).is_file():
        raise AdaptationError(f'{det_checkpoint}: detector checkpoint not found')
    log(f'{data.config}: {len(data.classes)} classes, {data.train.num_annotated} train and '
        f'{data.val.num_annotated} val images with boxes')
    sets = make_degraded_sets(data, out_dir / 'data', kinds, seed=seed, with_train=False)
    log(f'degraded val sets in {sets.bench_root}: {sets.written} images degraded, '
        f'{sets.resumed} kept from before')
    batch = batch_size or int(Config.fromfile(str(data.config)).train_dataloader.get(
        'batch_size', 1))
    total = epochs * math.ceil(data.train.num_images / batch)
    trained = {}
    for arm in ('joint', 'control') if control else ('joint', ):
        name = f'{arm}_e{epochs}_s{seed}'
        work, cfg_file, log_file = out_dir / name, out_dir / f'{name}.py', out_dir / f'{name}.log'
        out_dir.mkdir(parents=True, exist_ok=True)
        cfg_file.write_text(joint_tuning_config(data, det_checkpoint, work, epochs, seed,
                                                restorer=arm == 'joint',
                                                batch_size=batch_size))
        done = latest_checkpoint(work)
        if not _finished(done, f'epoch_{epochs}.pth'):
            log(f'fine-tuning {arm} for {epochs} epochs (log: {log_file})')
            _train(cfg_file, work, log_file, total, resume=done is not None, log=log)
            done = latest_checkpoint(work)
        trained[arm] = (cfg_file, str(done))
    log(f'fine-tuned detector with the student inside: {trained["joint"][1]} (config '
        f'{trained["joint"][0]})')
    runs = bench.plan_runs(data.config, det_checkpoint, sets.bench_root, ['clean', *kinds],
                           ['raw'], {}, trained, None, out_dir / 'benchmark', label='adapt')
    rows = bench.measure_runs(runs, jobs, reuse=True, report=log)
    record = dict(config=str(data.config), checkpoint=det_checkpoint, mode='joint',
                  epochs=epochs, seed=seed, kinds=list(kinds),
                  detectors={a: [str(c), k] for a, (c, k) in trained.items()})
    md = bench.write_report(rows, list(trained), out_dir, 'report', record,
                            reference='control' if control else None,
                            plot=out_dir / 'report.png')
    log(md)
    return AdaptationResult(Path(trained['joint'][1]), trained['joint'][0],
                            out_dir / 'report.md', rows)
