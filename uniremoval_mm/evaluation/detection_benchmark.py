"""Detection benchmark: a detector on clean, degraded and restored copies of its val set.

Each (set, arm) is one run of ``tools/test.py`` in a subprocess, on a generated config
(:func:`derived_config`): a ``_base_`` delta on the detector's config that points the test
set at ``DATA_ROOT/val.json`` + ``val/`` (``clean``) or ``DATA_ROOT/<set>/val.json`` +
``<set>/images/`` (what ``make_degraded_coco.py`` writes) and, for a restorer, puts a
frozen ``UniRemovalPreprocessor`` in front (with ``RestorationQualityMetric`` against the
clean images). A detector whose config already has a ``UniRemovalPreprocessor`` (fine-tuned
jointly with it) runs as it is.

Arms: students (restorer checkpoints in front of the main detector) and detectors (each
with its own config and checkpoint), named ``<arm> s<seed>`` to group seeds
(:mod:`uniremoval_mm.utils.seed_arms`). :func:`plan_runs` writes the configs,
:func:`measure_runs` runs them, :func:`table` / :func:`arm_table` / :func:`plot_arms`
report them; ``tools/analysis_tools/detection_benchmark.py`` is the command line.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..utils.seed_arms import arm_of, group_arms, mean_sd, paired_differences

__all__ = [
    'BenchmarkError', 'MIN_LOSS', 'MODES', 'Run', 'add_exact_map', 'arm_table',
    'derived_config', 'exact_map', 'finished_metrics', 'has_preprocessor', 'measure_runs',
    'parse_detector', 'parse_student', 'plan_runs', 'plot_arms', 'resolve_arms',
    'restorer_config', 'run_one', 'subset_annotations', 'table', 'write_report'
]

#: The script each test run executes (the repository's ``tools/test.py``).
TEST_TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'test.py'
#: The two ways the main detector is tested: on the images as they are, or restored.
MODES = ('raw', 'restored')
#: A loss of mAP below this is "no loss": a share of it would be noise.
MIN_LOSS = 0.02
_STDOUT_LOCK = threading.Lock()


class BenchmarkError(RuntimeError):
    """A benchmark that cannot go on: missing data, or a test run that failed."""


def restorer_config(spec: str) -> dict:
    """The restorer's model config from a type name or a restoration config file.

    Args:
        spec (str): A registered network name (``UniRemovalNetS``), a student size
            (``S``), a scoped type (``mmagic.NAFNet``), or a config whose
            ``model.generator`` (a distiller / editor) or ``model`` is the network (see
            :func:`uniremoval_mm.utils.network_configs.network_cfg`).

    Returns:
        dict: A config buildable from mmdet's scope (type prefixed with ``mmagic.``).

    Raises:
        FileNotFoundError: If the config file does not exist.
        ValueError: If the config holds no network or the name is unknown.
    """
    if '.' in spec and not spec.endswith('.py'):
        return dict(type=spec)
    from uniremoval_mm.utils.network_configs import network_cfg
    net = network_cfg(spec)
    net.pop('_scope_', None)  # our networks live in mmagic's registry: say so in the type
    if '.' not in net['type']:
        net['type'] = f'mmagic.{net["type"]}'
    return net


def derived_config(det_config: Path, data_root: Path, name: str, restorer: Optional[dict],
                   restorer_checkpoint: Optional[str], max_images: Optional[int] = None,
                   border: int = 0, images: Optional[range] = None,
                   subset_dir: Optional[Path] = None,
                   outfile_prefix: Optional[str] = None) -> str:
    """The text of a ``_base_`` delta on ``det_config`` testing on set ``name``.

    Args:
        det_config (Path): The detector's config.
        data_root (Path): Folder with ``val.json`` + ``val/`` and the degraded sets.
        name (str): ``'clean'`` or a degraded set's folder name.
        restorer (dict, optional): Network config of a frozen restorer put in front.
        restorer_checkpoint (str, optional): Its weights.
        max_images (int, optional): Test on the first N images only (``images=range(N)``).
        border (int): The pre-processor's mirrored margin (with a restorer). Defaults to 0.
        images (range, optional): Test on these positions of the set's ``val.json`` only:
            their annotations are written to ``subset_dir`` and both the dataset and
            the COCO metric read that file. Defaults to None (every image).
        subset_dir (Path, optional): Where a subset's annotations go. Required with
            ``images`` or ``max_images``.
        outfile_prefix (str, optional): Keep the detections (``PREFIX.bbox.json``, the
            COCO metric's own dump) for :func:`exact_map`. Defaults to None (not kept).

    Returns:
        str: Config text.

    Raises:
        FileNotFoundError: If the set's annotations or images are missing.
        ValueError: If both ``max_images`` and ``images`` are given, or the subset is
            empty or beyond the set.
    """
    root = data_root.resolve()
    ann, img = (root / 'val.json', root / 'val') if name == 'clean' else (
        root / name / 'val.json', root / name / 'images')
    for path in (ann, img):
        if not path.exists():
            raise FileNotFoundError(f'{path} not found (make it with make_degraded_coco.py)')
    if max_images is not None:
        if images is not None:
            raise ValueError('give max_images or images, not both')
        images = range(max_images)
    if images is not None:
        if subset_dir is None:
            raise ValueError('a subset of images needs subset_dir for its annotations')
        sub = f'{name}_val_{images.start}-{images.stop}.json'
        ann = subset_annotations(ann, images, subset_dir.resolve() / sub)  # not under root
    lines = [f'_base_ = {str(det_config.resolve())!r}',
             'test_dataloader = dict(dataset=dict(',
             f'    data_root={str(root) + "/"!r}, ann_file={str(ann)!r},',
             f'    data_prefix=dict(img={str(img) + "/"!r}),',
             '    indices=None))']  # (a subset is its own ann_file; this line keeps the
    # text of configs written before, so --reuse still finds their runs)
    metrics = [dict(type='CocoMetric', ann_file=str(ann), metric='bbox', format_only=False)]
    if outfile_prefix is not None:
        metrics[0]['outfile_prefix'] = outfile_prefix
    scored = name != 'clean'  # PSNR / SSIM against the clean images
    if restorer is not None:
        pre = dict(type='UniRemovalPreprocessor', restorer=restorer,
                   restorer_checkpoint=restorer_checkpoint, freeze=True, keep_restored=scored)
        if border:
            pre['border'] = border
        lines.append(f'model = dict(data_preprocessor={pre!r})')
    elif has_preprocessor(det_config):
        lines.append(f'model = dict(data_preprocessor=dict(keep_restored={scored}))')
    if scored and (restorer is not None or has_preprocessor(det_config)):
        metrics.append(dict(type='RestorationQualityMetric', ref_dir=str(root / 'val')))
    lines.append(f'test_evaluator = {metrics!r}')
    return '\n'.join(lines) + '\n'


def subset_annotations(ann: Path, images: range, out: Path) -> Path:
    """Write the COCO annotations of the images at ``images`` positions of ``ann``.

    Args:
        ann (Path): A COCO json (its ``images`` in the order the dataset reads them).
        images (range): Positions to keep.
        out (Path): The file to write (its folder is made).

    Returns:
        Path: ``out``.

    Raises:
        ValueError: If the range is empty or reaches past the file's images.
    """
    coco = json.loads(ann.read_text())
    n = len(coco['images'])
    if len(images) == 0 or images.start < 0 or images.stop > n:
        raise ValueError(f'{ann}: images {images.start}:{images.stop} asked, the file has '
                         f'{n} (positions 0:{n})')
    keep = coco['images'][images.start:images.stop]
    ids = {im['id'] for im in keep}
    coco.update(images=keep, annotations=[a for a in coco['annotations']
                                          if a['image_id'] in ids])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(coco))
    return out


def has_preprocessor(det_config: Path) -> bool:
    """Whether ``det_config``'s detector has a :class:`UniRemovalPreprocessor` (a
    detector fine-tuned jointly with its restorer)."""
    from mmengine.config import Config
    pre = Config.fromfile(str(det_config)).model.get('data_preprocessor', {})
    return pre.get('type') == 'UniRemovalPreprocessor'


def finished_metrics(config: Path, checkpoint: str,
                     work_dir: Path) -> Optional[Dict[str, float]]:
    """The metrics of a finished run of this config and detector in ``work_dir``.

    Args:
        config (Path): The run's config (its text must equal the finished run's).
        checkpoint (str): The detector checkpoint (must equal the finished run's).
        work_dir (Path): The run's work dir.

    Returns:
        dict | None: The metrics :func:`run_one` returned then, or None.
    """
    done = work_dir / 'finished.json'
    if not done.is_file():
        return None
    record = json.loads(done.read_text())
    same = (record.get('config') == config.read_text()
            and record.get('checkpoint') == checkpoint)
    return record['metrics'] if same else None


def exact_map(ann: Path, detections: Path,
              proposal_nums: Sequence[int] = (100, 300, 1000)) -> float:
    """COCO bbox mAP (IoU 0.50:0.95) of saved detections, unrounded.

    mmdet's ``CocoMetric`` rounds its mAP to three decimals, too coarse to tell a cost
    of 0.0045 from one of 0.0054; this scores the detections it saved the same way
    (its default ``proposal_nums`` as ``maxDets``, every category and image of ``ann``).

    Args:
        ann (Path): The COCO annotations the run was scored against.
        detections (Path): The ``PREFIX.bbox.json`` the metric wrote.
        proposal_nums (Sequence[int]): ``CocoMetric``'s ``proposal_nums``. Defaults to
            mmdet's (100, 300, 1000).

    Returns:
        float: mAP in [0, 1] (0 for no detections).

    Raises:
        FileNotFoundError: If either file is missing (named).
    """
    import contextlib
    import io

    from mmdet.datasets.api_wrappers import COCO, COCOeval
    for path in (ann, detections):
        if not Path(path).is_file():
            raise FileNotFoundError(f'{path} not found')
    dets = json.loads(Path(detections).read_text())
    if not dets:
        return 0.0
    # pycocotools prints its summary: silenced; redirect_stdout swaps sys.stdout for every
    # thread, so runs scored from --jobs threads take turns (or one's summary leaks)
    with _STDOUT_LOCK, contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann))
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.params.catIds = gt.get_cat_ids()
        ev.params.imgIds = gt.get_img_ids()
        ev.params.maxDets = list(proposal_nums)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(ev.stats[0])


def add_exact_map(config: Path, work_dir: Path, metrics: Dict[str, float]) -> Dict[str, float]:
    """``metrics`` with ``coco/bbox_mAP_exact`` from the detections a run saved.

    Args:
        config (Path): The run's config (its first test metric names the annotations
            and the detections' prefix).
        work_dir (Path): The run's work dir (``finished.json`` is rewritten with it).
        metrics (dict): The run's metrics.

    Returns:
        dict: The metrics with the exact value.

    Raises:
        RuntimeError: If it disagrees with mmdet's rounded mAP (not the same scoring).
    """
    from mmengine.config import Config
    coco = Config.fromfile(str(config)).test_evaluator[0]
    exact = exact_map(Path(coco['ann_file']), Path(coco['outfile_prefix'] + '.bbox.json'),
                      coco.get('proposal_nums', (100, 300, 1000)))
    if abs(exact - metrics.get('coco/bbox_mAP', exact)) > 0.0005 + 1e-9:
        raise RuntimeError(f'{config}: exact mAP {exact:.4f} is not mmdet\'s rounded '
                           f'{metrics["coco/bbox_mAP"]:.3f}')
    metrics = dict(metrics, **{'coco/bbox_mAP_exact': exact})
    done = work_dir / 'finished.json'
    if done.is_file():
        record = json.loads(done.read_text())
        done.write_text(json.dumps(dict(record, metrics=metrics)))
    return metrics


def run_one(config: Path, checkpoint: str, work_dir: Path,
            threads: Optional[int] = None) -> Dict[str, float]:
    """Run ``tools/test.py`` and return its metrics (from the run's json log).

    Args:
        config (Path): Config file.
        checkpoint (str): Detector checkpoint.
        work_dir (Path): The run's work dir.
        threads (int, optional): ``OMP_NUM_THREADS`` of the run; None inherits it.

    Returns:
        dict[str, float]: The metrics, plus ``seconds`` (wall time of the run).

    Raises:
        RuntimeError: If the run fails (its last output lines are in the message).
    """
    start = time.time()
    env = None if threads is None else dict(
        os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    proc = subprocess.run(
        [sys.executable, str(TEST_TOOL), str(config), checkpoint, '--work-dir', str(work_dir)],
        cwd=TEST_TOOL.parents[1], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        tail = '\n'.join((proc.stdout + proc.stderr).splitlines()[-15:])
        raise RuntimeError(f'tools/test.py {config} failed:\n{tail}')
    logs = sorted(work_dir.glob('*/*.json'), key=lambda p: p.stat().st_mtime)
    metrics = json.loads(logs[-1].read_text())
    metrics['seconds'] = round(time.time() - start, 1)
    (work_dir / 'finished.json').write_text(json.dumps(dict(
        config=config.read_text(), checkpoint=checkpoint, metrics=metrics)))
    return metrics


def table(rows: List[dict]) -> str:
    """A markdown table: per set, raw vs restored mAP / mAP_50, recovered share, PSNR."""
    by = {(r['set'], r['mode']): r for r in rows}
    clean = by.get(('clean', 'raw'), {}).get('coco/bbox_mAP')
    out = ['| set | raw mAP | raw mAP_50 | restored mAP | restored mAP_50 | recovered | '
           'PSNR in → restored |', '|---|---|---|---|---|---|---|']
    for name in dict.fromkeys(r['set'] for r in rows):
        raw, res = by.get((name, 'raw'), {}), by.get((name, 'restored'), {})
        cells = [name]
        for r in (raw, res):
            cells += [_fmt(r.get('coco/bbox_mAP')), _fmt(r.get('coco/bbox_mAP_50'))]
        lost = None if clean is None or 'coco/bbox_mAP' not in raw else clean - raw[
            'coco/bbox_mAP']
        if name != 'clean' and lost is not None and lost < MIN_LOSS:
            cells.append('(no loss)')  # a share of nothing means nothing
        elif name != 'clean' and lost and 'coco/bbox_mAP' in res:
            cells.append(f"{(res['coco/bbox_mAP'] - raw['coco/bbox_mAP']) / lost:+.0%}")
        else:
            cells.append('')
        psnr = (res.get('restoration/input_PSNR'), res.get('restoration/PSNR'))
        cells.append(f'{psnr[0]:.2f} → {psnr[1]:.2f} dB' if None not in psnr else '')
        out.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(out)


def arm_table(rows: List[dict], students: Sequence[str],
              reference: Optional[str] = None) -> str:
    """A markdown table of bbox mAP per set: raw, then each arm's mean ± sd over seeds.

    Args:
        rows (list[dict]): One per run: ``set``, ``mode`` (``'raw'`` or a student's
            name) and its metrics.
        students (Sequence[str]): The students, in the order of the columns.
        reference (str, optional): The arm the paired differences are taken against.
            Defaults to None (the first arm).

    Returns:
        str: The table; PSNR of input and restored images where measured; the paired
        differences (arm - first arm, same seed).
    """
    by = {(r['set'], r['mode']): r.get('coco/bbox_mAP') for r in rows}
    arms = group_arms(students)
    sets = list(dict.fromkeys(r['set'] for r in rows))
    clean = by.get(('clean', 'raw'))

    head = ['set', 'raw'] + [f'{a} (n={len(s)})' for a, s in arms.items()]
    out = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name in sets:
        raw = by.get((name, 'raw'))
        cells = [name, _fmt(raw)]
        for seeds in arms.values():
            values = [by[(name, s)] for s in seeds.values() if by.get((name, s)) is not None]
            text = mean_sd(values)
            lost = None if clean is None or raw is None else clean - raw
            if values and name != 'clean' and lost is not None:
                text += (f' ({(statistics.mean(values) - raw) / lost:+.0%})'
                         if lost >= MIN_LOSS else ' (no loss)')
            cells.append(text)
        out.append('| ' + ' | '.join(cells) + ' |')
    psnr = {(r['set'], r['mode']): (r.get('restoration/input_PSNR'), r.get('restoration/PSNR'))
            for r in rows if r.get('restoration/PSNR') is not None}
    if psnr:
        out += ['', 'PSNR against the clean image, dB (input, then each arm: mean over seeds):',
                '', '| set | input | ' + ' | '.join(arms) + ' |', '|---|---|' + '---|' * len(arms)]
        for name in sets:
            inputs = [v[0] for (n, _), v in psnr.items() if n == name and v[0] is not None]
            if not inputs:
                continue
            cells = [name, f'{inputs[0]:.2f}']
            for seeds in arms.values():
                values = [psnr[(name, s)][1] for s in seeds.values() if (name, s) in psnr]
                cells.append(f'{statistics.mean(values):.2f}' if values else '')
            out.append('| ' + ' | '.join(cells) + ' |')
    exact = {(r['set'], r['mode']): r['coco/bbox_mAP_exact'] for r in rows
             if r.get('coco/bbox_mAP_exact') is not None}
    if exact:
        out += ['', 'bbox mAP unrounded (pycocotools on the saved detections; mean ± sd):', '',
                '| set | raw | ' + ' | '.join(arms) + ' |', '|---|---|' + '---|' * len(arms)]
        for name in sets:
            cells = [name, mean_sd([exact[(name, 'raw')]] if (name, 'raw') in exact else [], 4)]
            for seeds in arms.values():
                cells.append(mean_sd([exact[(name, s)] for s in seeds.values()
                                      if (name, s) in exact], 4))
            out.append('| ' + ' | '.join(cells) + ' |')
    if reference is not None and reference not in arms:
        raise ValueError(f'reference arm {reference!r} is not one of {list(arms)}')
    first = reference if reference is not None else next(iter(arms), None)
    names = [first] + [a for a in arms if a != first]

    def measured(name: str, seeds: Dict[Optional[str], str]) -> Dict[Optional[str], float]:
        return {seed: by[(name, s)] for seed, s in seeds.items() if by.get((name, s)) is not None}

    if len(names) > 1:
        ref = arms[first]
        out += ['', f'Paired by seed, arm - {first} (mean ± sd of the differences, n; an '
                'arm without seeds, a fixed model, pairs with every seed):', '',
                '| set | ' + ' | '.join(names[1:]) + ' |', '|---|' + '---|' * (len(names) - 1)]
        for name in sets:
            cells = [name]
            for arm in names[1:]:
                diffs = paired_differences(measured(name, arms[arm]), measured(name, ref))
                cells.append(f'{mean_sd(diffs)} (n={len(diffs)})' if diffs else '')
            out.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(out)


def plot_arms(rows: List[dict], students: Sequence[str], path: Path) -> Path:
    """Grouped bars of bbox mAP per set: raw, then each arm's mean (error bar: sd over
    seeds, dots: the seeds); a dashed line at the clean detector's clean mAP.

    Args:
        rows (list[dict]): One per run, as for :func:`arm_table`.
        students (Sequence[str]): The students / detectors, in the order of the bars.
        path (Path): The picture to write (its folder is made).

    Returns:
        Path: ``path``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    by = {(r['set'], r['mode']): r.get('coco/bbox_mAP') for r in rows}
    arms = {'raw': ['raw']}
    arms.update((arm, list(runs.values())) for arm, runs in group_arms(students).items())
    sets = list(dict.fromkeys(r['set'] for r in rows))
    width = 0.8 / len(arms)
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(sets), 3.6))
    for i, (arm, names) in enumerate(arms.items()):
        for j, name in enumerate(sets):
            values = [by[(name, s)] for s in names if by.get((name, s)) is not None]
            if not values:
                continue
            x = j + (i - (len(arms) - 1) / 2) * width
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            ax.bar(x, statistics.mean(values), width, yerr=sd, color=f'C{i}',
                   label=arm if j == 0 else None, capsize=2)
            if len(values) > 1:
                ax.plot([x] * len(values), values, 'k.', markersize=3)
    clean = by.get(('clean', 'raw'))
    if clean is not None:
        ax.axhline(clean, color='k', linestyle='--', linewidth=0.8,
                   label='clean detector, clean images')
    ax.set_xticks(range(len(sets)), sets)
    ax.set_ylabel('bbox mAP')
    top = max([v for v in by.values() if v is not None] + [0.1])
    ax.set_ylim(0, top * 1.22)  # room for the legend above the bars
    ax.legend(fontsize=7, ncol=len(arms) + 1, loc='upper center', frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def parse_detector(spec: str) -> Tuple[str, Path, str]:
    """``'joint s0=CONFIG.py,CKPT.pth'`` -> ``('joint s0', Path('CONFIG.py'), 'CKPT.pth')``.

    Args:
        spec (str): ``NAME=CONFIG,CHECKPOINT``.

    Returns:
        tuple: The name, the detector's config and its checkpoint.

    Raises:
        ValueError: If the form is wrong or a file does not exist (named).
    """
    name, sep, files = spec.partition('=')
    config, comma, checkpoint = files.partition(',')
    if not (sep and comma and name.strip() and config and checkpoint):
        raise ValueError(f'--detector {spec!r}: expected NAME=CONFIG,CHECKPOINT')
    for path in (config, checkpoint):
        if not Path(path).is_file():
            raise ValueError(f'--detector {spec!r}: {path} not found')
    return name.strip(), Path(config), checkpoint


def _fmt(value) -> str:
    return '' if value is None else f'{value:.3f}'


def parse_student(spec: str) -> Tuple[str, str]:
    """``'tuned s0=CKPT.pth'`` -> ``('tuned s0', 'CKPT.pth')``.

    Args:
        spec (str): ``NAME=CHECKPOINT``.

    Returns:
        tuple: The name and the restorer checkpoint.

    Raises:
        ValueError: If the form is wrong or the file does not exist (named).
    """
    name, sep, path = spec.partition('=')
    name = name.strip()
    if not sep or not name or not path:
        raise ValueError(f'--student {spec!r}: expected NAME=CHECKPOINT')
    if not Path(path).is_file():
        raise ValueError(f'--student {spec!r}: {path} not found')
    return name, path


def resolve_arms(entries: Sequence[Tuple[str, str]], modes: Sequence[str], builtin: bool,
                 restorer_checkpoint: Optional[str] = None, reference: Optional[str] = None
                 ) -> Tuple[Dict[str, Optional[str]], Dict[str, Tuple[Path, str]], List[str],
                            List[str]]:
    """What runs: the students, the detectors, the order of the arms, the modes.

    Args:
        entries (Sequence[tuple[str, str]]): ``('--student', 'NAME=CKPT')`` and
            ``('--detector', 'NAME=CONFIG,CKPT')`` in the order given.
        modes (Sequence[str]): The modes asked for (of :data:`MODES`).
        builtin (bool): The main detector has its own restorer (:func:`has_preprocessor`).
        restorer_checkpoint (str, optional): The single restorer in front of the main
            detector. Defaults to None.
        reference (str, optional): The arm paired differences are taken against.
            Defaults to None.

    Returns:
        tuple: Students (name to checkpoint; ``{'restored': ...}`` in the single-restorer
        form), detectors (name to (config, checkpoint)), the rows' names in column order,
        and the modes to run (``restored`` dropped when only detectors are compared and
        the main detector has no restorer).

    Raises:
        ValueError: One line naming the option: a bad or taken name, a missing file, a
            student with a restorer already in front, an unknown reference, or mode
            ``restored`` without a restorer.
    """
    students: Dict[str, Optional[str]] = {}
    detectors: Dict[str, Tuple[Path, str]] = {}
    order: List[str] = []  # arms' columns: --student and --detector as given
    for option, spec in entries:
        if option == '--detector':
            name, det_cfg, det_ckpt = parse_detector(spec)
        else:
            name, path = parse_student(spec)
        if name in order or name in MODES:
            raise ValueError(f'{option} {spec!r}: the name {name!r} is taken')
        order.append(name)
        if option == '--detector':
            detectors[name] = (det_cfg, det_ckpt)
        else:
            students[name] = path
    if students and (builtin or restorer_checkpoint):
        raise ValueError('--student tests restorers in front of a plain detector: not with '
                         '--restorer-checkpoint or a detector config that has a restorer')
    arm_names = [arm_of(name)[0] for name in order]
    if reference is not None and reference not in arm_names:
        raise ValueError(f'--reference {reference!r}: not an arm of --student / --detector '
                         f'({", ".join(dict.fromkeys(arm_names)) or "none given"})')
    modes = list(modes)
    if detectors and not students and not builtin and not restorer_checkpoint:
        modes = [m for m in modes if m != 'restored']  # no restorer for the main detector
    if 'restored' in modes and not builtin and not restorer_checkpoint and not students:
        raise ValueError('--restorer-checkpoint is needed for mode restored (an untrained '
                         'restorer is the identity)')
    if not students and 'restored' in modes:  # the single-restorer form
        students = {'restored': None if builtin else restorer_checkpoint}
        order.insert(0, 'restored')
    return students, detectors, order, modes


@dataclass
class Run:
    """One test run: a set, the row's name, its config, work dir and detector checkpoint."""
    set: str
    name: str
    config: Path
    work_dir: Path
    checkpoint: str


def plan_runs(det_config: Path, checkpoint: str, data_root: Path, sets: Sequence[str],
              modes: Sequence[str], students: Dict[str, Optional[str]],
              detectors: Dict[str, Tuple[Path, str]], restorer: Optional[dict],
              work_dir: Path, label: str = 'benchmark', max_images: Optional[int] = None,
              border: int = 0, images: Optional[range] = None,
              exact: bool = False) -> List[Run]:
    """Write the config of every run into ``work_dir/configs`` and list the runs.

    Per set: mode ``raw`` tests the main detector on the images as they are (not for a
    detector with its own restorer); mode ``restored`` tests it once per student; every
    detector of ``detectors`` is tested as it is.

    Args:
        det_config (Path): The main detector's config.
        checkpoint (str): Its checkpoint.
        data_root (Path): Folder with ``val.json`` + ``val/`` and the degraded sets.
        sets (Sequence[str]): ``'clean'`` and degraded sets' folder names.
        modes (Sequence[str]): Of :data:`MODES`.
        students (dict[str, str | None]): Row name to restorer checkpoint (None: the
            detector's own restorer).
        detectors (dict[str, tuple[Path, str]]): Row name to (config, checkpoint).
        restorer (dict, optional): The students' network (:func:`restorer_config`).
        work_dir (Path): Runs go to ``work_dir/<label>_<set>_<name>``.
        label (str): Prefix of the runs. Defaults to ``'benchmark'``.
        max_images (int, optional): See :func:`derived_config`. Defaults to None.
        border (int): See :func:`derived_config`. Defaults to 0.
        images (range, optional): See :func:`derived_config`. Defaults to None.
        exact (bool): Keep the detections for :func:`add_exact_map`. Defaults to False.

    Returns:
        list[Run]: The runs, by set, then raw, students, detectors.

    Raises:
        BenchmarkError: If a set's annotations or images are missing, or the subset of
            images is not in the set.
    """
    builtin = has_preprocessor(det_config)
    (work_dir / 'configs').mkdir(parents=True, exist_ok=True)
    runs = []
    for name in sets:
        # (row name, detector config, detector checkpoint, restorer, restorer checkpoint)
        todo = []
        for mode in modes:
            if builtin and mode == 'raw':
                continue  # the pre-processor is part of this detector
            todo += ([(s, det_config, checkpoint, restorer, c)
                      for s, c in students.items()] if mode == 'restored'
                     else [('raw', det_config, checkpoint, None, None)])
        todo += [(d, cfg, ckpt, None, None) for d, (cfg, ckpt) in detectors.items()]
        for student, det_cfg, det_ckpt, net, ckpt in todo:
            tag = re.sub(r'[^A-Za-z0-9_.-]+', '_', student)
            run = f'{label}_{name}_{tag}'
            cfg = work_dir / 'configs' / f'{run}.py'
            try:
                prefix = str((work_dir / run / 'coco').resolve()) if exact else None
                cfg.write_text(derived_config(
                    det_cfg, data_root, name, net, ckpt, max_images, border, images,
                    work_dir / 'configs', prefix))
            except (FileNotFoundError, ValueError) as e:
                raise BenchmarkError(str(e)) from e
            runs.append(Run(name, student, cfg, work_dir / run, det_ckpt))
    return runs


def measure_runs(runs: Sequence[Run], jobs: int = 1, reuse: bool = False,
                 exact: bool = False,
                 report: Optional[Callable[[str], None]] = None) -> List[dict]:
    """Run every test (``jobs`` at a time, each with cores / ``jobs`` threads).

    Args:
        runs (Sequence[Run]): From :func:`plan_runs`.
        jobs (int): Test runs at a time. Defaults to 1.
        reuse (bool): Take the metrics of a run already finished with the same config
            and checkpoint (:func:`finished_metrics`). Defaults to False.
        exact (bool): Add ``coco/bbox_mAP_exact`` (:func:`add_exact_map`). Defaults to
            False.
        report (Callable[[str], None], optional): Told one line per finished run.
            Defaults to None (a progress bar only).

    Returns:
        list[dict]: One row per run: ``set``, ``mode`` (the row's name) and its metrics.

    Raises:
        BenchmarkError: If a run fails (the rest are cancelled).
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm
    threads = None if jobs == 1 else max(1, (os.cpu_count() or 1) // jobs)

    def measure(run: Run) -> Dict[str, float]:
        done = finished_metrics(run.config, run.checkpoint, run.work_dir) if reuse else None
        metrics = done if done is not None else run_one(run.config, run.checkpoint,
                                                        run.work_dir, threads)
        if exact and 'coco/bbox_mAP_exact' not in metrics:
            metrics = add_exact_map(run.config, run.work_dir, metrics)
        return metrics

    rows = []
    with ThreadPoolExecutor(jobs) as pool:
        futures = [pool.submit(measure, run) for run in runs]
        bar = tqdm(total=len(runs), desc='test runs', unit='run', dynamic_ncols=True,
                   disable=None)
        for run, future in zip(runs, futures):
            try:
                metrics = future.result()
            except RuntimeError as e:
                bar.close()
                for f in futures:
                    f.cancel()
                raise BenchmarkError(str(e)) from e
            rows.append(dict(set=run.set, mode=run.name, **metrics))
            bar.update(1)
            line = (f"{run.set:6s} {run.name:10s} mAP {metrics.get('coco/bbox_mAP', 0):.3f} "
                    f"mAP_50 {metrics.get('coco/bbox_mAP_50', 0):.3f} "
                    f"({metrics['seconds']} s)")
            (report or bar.write)(line)
        bar.close()
    return rows


def write_report(rows: List[dict], order: Sequence[str], work_dir: Path, label: str,
                 record: dict, reference: Optional[str] = None,
                 plot: Optional[Path] = None) -> str:
    """Write ``work_dir/<label>.md`` (the table) and ``<label>.json`` (``record`` and the
    rows), and the picture if asked.

    Args:
        rows (list[dict]): From :func:`measure_runs`.
        order (Sequence[str]): The rows' names besides ``raw``, in column order; empty
            or ``['restored']`` gives the single-restorer :func:`table`, anything else
            :func:`arm_table`.
        work_dir (Path): Where the files go.
        label (str): Their name.
        record (dict): What the json records besides the rows (the inputs).
        reference (str, optional): :func:`arm_table`'s reference arm. Defaults to None.
        plot (Path, optional): Also draw :func:`plot_arms` there. Defaults to None.

    Returns:
        str: The markdown table.
    """
    md = (table(rows) if list(order) == ['restored'] or not order
          else arm_table(rows, order, reference))
    (work_dir / f'{label}.json').write_text(json.dumps(dict(record, rows=rows), indent=1))
    (work_dir / f'{label}.md').write_text(md + '\n')
    if plot is not None:
        plot_arms(rows, list(order) or ['restored'], plot)
    return md
