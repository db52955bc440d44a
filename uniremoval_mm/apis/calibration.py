"""Calibrate a released student to a user's own unlabelled footage (stage 2), and measure.

:func:`calibrate` splits a folder of the user's degraded photos into a part to learn from
and a held-out part, runs the real-fog stage-2 recipe
(``configs/uniremoval_stage2_real-fog.py``) on the first part against clean photos,
writes the calibrated student, and measures the student before and after on the held-out
part with :mod:`uniremoval_mm.evaluation.real_photos`.
"""
import hashlib
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch

from ..utils.errors import UsageError

#: Fewest usable photos a folder needs: 14 to learn from and 6 held out to measure.
MIN_PHOTOS = 20
#: The recipe, relative to the repository (or the installed package's configs).
RECIPE = 'configs/uniremoval_stage2_real-fog.py'


def split_photos(files: Sequence[Path], holdout: float = 0.3,
                 min_photos: int = MIN_PHOTOS) -> Tuple[List[Path], List[Path]]:
    """Split photos into a part to learn from and a held-out part, by a hash of each name.

    The split depends on the file names only (SHA-1 of the name, so adding photos later
    keeps earlier ones where they were), never on their content or order.

    Args:
        files (Sequence[Path]): The photos.
        holdout (float): Share held out, in (0, 0.5]. Defaults to 0.3.
        min_photos (int): Fewest photos accepted. Defaults to :data:`MIN_PHOTOS`.

    Returns:
        tuple[list[Path], list[Path]]: ``(fit, held_out)``, each sorted by name.

    Raises:
        UsageError: Too few photos (the message says how many are needed), or a bad
            ``holdout``.
    """
    if not 0 < holdout <= 0.5:
        raise UsageError(f'--holdout must be in (0, 0.5], got {holdout}')
    if len(files) < min_photos:
        folder = Path(files[0]).parent if files else 'the folder'
        raise UsageError(f'{folder}: {len(files)} usable photos; calibration needs at least '
                         f'{min_photos} ({min_photos - round(min_photos * holdout)} to learn '
                         f'from, the rest held out to measure the result)')

    def score(path: Path) -> float:
        return int(hashlib.sha1(Path(path).name.encode()).hexdigest()[:8], 16) / 16**8

    ranked = sorted(files, key=score)
    n_out = max(1, round(len(files) * holdout))
    held = sorted(ranked[:n_out], key=lambda p: Path(p).name)
    fit = sorted(ranked[n_out:], key=lambda p: Path(p).name)
    return fit, held


def calibration_config(recipe: Union[str, Path], photos: Path, fit: Sequence[Path],
                       clean: Path, checkpoint: str, work_dir: Path, iters: int,
                       seed: int = 0, kind: str = 'haze'):
    """The stage-2 recipe pointed at the user's photos.

    Args:
        recipe (str | Path): The stage-2 config to start from.
        photos (Path): The folder of degraded photos.
        fit (Sequence[Path]): The photos to learn from (names inside ``photos``).
        clean (Path): A folder of clean photos.
        checkpoint (str): The student to start from.
        work_dir (Path): Where the run writes.
        iters (int): Iterations.
        seed (int): Seed. Defaults to 0.
        kind (str): Degradation type of the photos. Defaults to ``'haze'``.

    Returns:
        mmengine.Config: The ready config.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(str(recipe))
    pipeline = cfg.train_pipeline
    degraded = dict(type='UnpairedFolderDataset', data_root=str(photos),
                    folders={'.': kind}, files={'.': [Path(f).name for f in fit]},
                    pipeline=pipeline)
    cfg.train_dataloader.dataset = dict(
        type='ConcatDataset', datasets=[
            degraded,
            dict(type='UnpairedFolderDataset', data_root=str(clean),
                 folders={'.': 'clean'}, pipeline=pipeline)])
    cfg.val_dataloader = cfg.val_cfg = cfg.val_evaluator = None
    cfg.test_dataloader = cfg.test_cfg = cfg.test_evaluator = None
    cfg.model.init_checkpoint = str(checkpoint)
    cfg.model.degradation_types = (kind, )
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=iters,
                                        max_keep_ckpts=1, save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=max(1, min(50, iters // 10)))
    cfg.randomness = dict(seed=seed)
    cfg.work_dir = str(work_dir)
    cfg.launcher = 'none'
    return cfg


def save_student(generator: torch.nn.Module, out_file: Path, meta: Dict) -> None:
    """Write a student's weights alone (float16, as the released checkpoint).

    Args:
        generator (nn.Module): The student.
        out_file (Path): The file to write.
        meta (dict): Recorded beside the weights.
    """
    state = OrderedDict((k, v.detach().cpu().half() if v.is_floating_point() else v.cpu())
                        for k, v in generator.state_dict().items())
    out_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_file.with_name(out_file.name + '.tmp')
    torch.save(dict(state_dict=state, meta=dict(meta, dtype='float16')), tmp)
    tmp.replace(out_file)


def calibrate(photos: Union[str, Path], checkpoint: str, clean: Union[str, Path],
              work_dir: Union[str, Path], iters: int = 200, holdout: float = 0.3,
              seed: int = 0, kind: str = 'haze', recipe: Optional[Union[str, Path]] = None,
              side: int = 640, niqe: bool = False,
              sheets: bool = True) -> Dict[str, object]:
    """Calibrate ``checkpoint`` to a folder of photos and measure it before and after.

    Args:
        photos (str | Path): The user's degraded photos (unlabelled).
        checkpoint (str): The student to start from (e.g. the released one).
        clean (str | Path): Clean photos of similar scenes (or any clean photos).
        work_dir (str | Path): Where the run and its report go.
        iters (int): Training iterations. Defaults to 200 (about 10-15 CPU minutes).
        holdout (float): Share of the photos held out to measure. Defaults to 0.3.
        seed (int): Seed. Defaults to 0.
        kind (str): Degradation type of the photos. Defaults to ``'haze'``.
        recipe (str | Path, optional): The stage-2 config. Defaults to :data:`RECIPE`.
        side (int): Longer side photos are measured at. Defaults to 640.
        niqe (bool): Also measure NIQE. Defaults to False.
        sheets (bool): Write contact sheets of the held-out photos. Defaults to True.

    Returns:
        dict: ``student`` (the calibrated file), ``fit`` / ``held_out`` (names),
        ``before`` / ``after`` (:func:`summarise` rows on the held-out photos),
        ``sheets`` (files written).

    Raises:
        UsageError: A folder is missing or too small, or the checkpoint is missing.
    """
    import cv2
    from mmengine.runner import Runner

    from ..datasets.image_files import list_images
    from ..evaluation import real_photos as rp
    from .inference import Restorer, init_restorer
    photos, clean, work_dir = Path(photos), Path(clean), Path(work_dir)
    for name, folder in (('photos', photos), ('--clean', clean)):
        if not folder.is_dir():
            raise UsageError(f'{name}: {folder} is not a folder')
    if not Path(checkpoint).is_file():
        raise UsageError(f'--checkpoint: {checkpoint} not found')
    recipe = Path(recipe) if recipe else Path(__file__).resolve().parents[2] / RECIPE
    if not recipe.is_file():
        raise UsageError(f'the stage-2 recipe {recipe} is missing (run from a clone)')
    files = list_images(photos, recursive=False)
    fit, held = split_photos(files, holdout)
    if len(list_images(clean, recursive=False)) < 2:
        raise UsageError(f'--clean: {clean} needs at least 2 clean photos')
    cfg = calibration_config(recipe, photos, fit, clean, checkpoint, work_dir, iters, seed,
                             kind)
    runner = Runner.from_cfg(cfg)
    runner.train()
    student = work_dir / 'calibrated_student.pth'
    save_student(runner.model.generator, student,
                 dict(source=str(checkpoint), photos=str(photos), iters=iters, seed=seed,
                      fit=[f.name for f in fit]))
    restorers = {name: Restorer(init_restorer('S', path)) for name, path in
                 (('before', checkpoint), ('after', str(student)))}
    result = rp.measure_folder(held, restorers, side=side, niqe=niqe, keep_outputs=sheets)
    written = []
    if sheets:
        for i, page in enumerate(rp.contact_sheets([f.name for f in held], result['inputs'],
                                                   result['outputs'])):
            path = work_dir / f'held_out_{i + 1:02d}.jpg'
            cv2.imwrite(str(path), page[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
            written.append(str(path))
    return dict(student=str(student), fit=[f.name for f in fit], held_out=[f.name for f in held],
                before=rp.summarise(result['records']['before']),
                after=rp.summarise(result['records']['after']), sheets=written)
