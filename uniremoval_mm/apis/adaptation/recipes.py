"""The training configs of an adaptation: frozen tuning (:func:`frozen_tuning_config`,
with :func:`detector_taps`) and joint fine-tuning (:func:`joint_tuning_config`), and the
detector config that puts an adapted student in front (:func:`adapted_config`)."""
from pathlib import Path
from typing import List, Optional, Tuple, Union

from mmengine.config import Config

from .data import _WRAPPERS, AdaptationError, DetectorData

__all__ = [
    'CONFIGS', 'JOINT_DEGRADE', 'JOINT_LR_FACTOR', 'PROGRESS_FILE', 'SHIPPED_STUDENT',
    'TAP_WEIGHTS', 'adapted_config', 'detector_taps', 'frozen_tuning_config',
    'joint_tuning_config'
]

#: The repository's configs (the tuning recipe is a ``_base_`` there).
CONFIGS = Path(__file__).resolve().parents[3] / 'configs'
#: The student tuning starts from by default.
SHIPPED_STUDENT = CONFIGS.parent / 'checkpoints' / 'uniremoval-net-s_stage1-cpu.pth'
#: The tuning run's progress (``ProgressHook``), under its work dir.
PROGRESS_FILE = 'progress.json'
#: IGCL's weight of a backbone and of a neck feature map (the neck is what heads read).
TAP_WEIGHTS = dict(backbone=0.5, neck=1.0)


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

    from ...models.losses.detector_features import DetectorFeatureExtractor
    from ...utils.checkpoint import CheckpointError
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
