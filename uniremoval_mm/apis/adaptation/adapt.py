"""An adaptation from start to end: :func:`adapt_frozen` and :func:`adapt_joint`, each
resumed where a crash stopped it, and the steps only they need."""
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Union

from mmengine.config import Config

from ...utils.constants import DEGRADATION_TYPES
from .data import (AdaptationError, DetectorData, _write_json_atomically, detector_data,
                   make_degraded_sets)
from .recipes import (CONFIGS, PROGRESS_FILE, SHIPPED_STUDENT, adapted_config, frozen_tuning_config,
                      joint_tuning_config)

__all__ = ['AdaptationResult', 'adapt_frozen', 'adapt_joint', 'release_student',
           'seconds_per_iteration']


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
    from ...utils.checkpoint import (CheckpointError, atomic_torch_save, load_external_checkpoint,
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


def _checked_data_and_sets(det_config, det_checkpoint, out_dir: Path, kinds, seed: int,
                           min_images: int, log: Callable[[str], None]):
    """The first steps both modes share: check the detector's data and checkpoint, then
    make (or keep) the degraded val sets. Returns ``(data, sets)``."""
    data = detector_data(det_config, min_images)
    if not Path(det_checkpoint).is_file():
        raise AdaptationError(f'{det_checkpoint}: detector checkpoint not found')
    log(f'{data.config}: {len(data.classes)} classes, {data.train.num_annotated} train and '
        f'{data.val.num_annotated} val images with boxes')
    sets = make_degraded_sets(data, out_dir / 'data', kinds, seed=seed, with_train=False)
    log(f'degraded val sets in {sets.bench_root}: {sets.written} images degraded, '
        f'{sets.resumed} kept from before')
    return data, sets


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
    from ...evaluation import detection_benchmark as bench
    from ...utils.checkpoint import latest_checkpoint
    out_dir = Path(out_dir)
    data, sets = _checked_data_and_sets(det_config, det_checkpoint, out_dir, kinds, seed,
                                        min_images, log)
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
    from ...utils.checkpoint import checkpoint_problem
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

    from ...utils.checkpoint import CheckpointError, resume_checkpoint
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

    from ...utils.training_logs import read_scalars
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
    from ...utils.errors import UsageError
    try:
        records = read_scalars(work_dir)
    except UsageError as e:
        raise AdaptationError(str(e)) from None
    times = [r['time'] for r in records if 'time' in r][1:]
    if not times:
        raise AdaptationError(f'{work_dir}: the timing run logged no iteration times')
    return float(statistics.median(times))


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

    from ...evaluation import detection_benchmark as bench
    from ...utils.checkpoint import latest_checkpoint
    out_dir = Path(out_dir)
    data, sets = _checked_data_and_sets(det_config, det_checkpoint, out_dir, kinds, seed,
                                        min_images, log)
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
