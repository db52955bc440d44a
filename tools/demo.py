#!/usr/bin/env python
"""The main job on the embedded demo, end to end (README command one: ``make demo``).

1. The stack's smoke job: versions; mmdet's own Faster R-CNN config on a real photo.
2. The demo data (``data/demo``: real photos, degraded pairs, unpaired photos, a small
   detection set and its degraded copies), built once.
3. Training and the restoration table, as two chains side by side (one thread each on a
   2-core machine): stage 1 (knowledge transfer, ``configs/demo/stage1.py``), stage 2
   (calibration, ``configs/demo/stage2.py``), then PSNR / SSIM per degradation for the
   input, the teachers and both students (``tools/analysis_tools/stage1_table.py``);
   beside them, the clean detector (RTMDet-tiny, ``configs/demo/rtmdet-tiny_demo-shapes.py``).
   Each is a subprocess; its log goes to ``OUT/logs/``, its progress to a bar here.
4. Detection benchmark: the detector's mAP on clean, degraded and restored images
   (``tools/analysis_tools/detection_benchmark.py``), with this run's stage-2 student and
   the shipped student (``checkpoints/``, named by its SHA-256) in front, side by side.
5. Pictures: restored-vs-input grid, detection boxes before / after
   (``tools/restore.py``), training curves; and ``OUT/results.md`` with every table and
   the time of each step.

A second run reuses finished trainings (and resumes an interrupted one) and rewrites the
tables and pictures from them; to start from scratch, give a new ``--out-dir``.

Usage: python tools/demo.py [--out-dir work_dirs/demo] [--jobs 2] [--device cpu]
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run from a clone, uninstalled

DETECTOR_CFG = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
STAGE1_CFG = REPO / 'configs' / 'demo' / 'stage1.py'
STAGE2_CFG = REPO / 'configs' / 'demo' / 'stage2.py'
DET_CFG = REPO / 'configs' / 'demo' / 'rtmdet-tiny_demo-shapes.py'
# the shipped CPU-trained student (docs/model_card.md), shown beside the demo's own runs
RELEASED = REPO / 'checkpoints' / 'uniremoval-net-s_stage1-cpu.pth'
#: Names of the students in the demo's tables.
DEMO_STUDENT, SHIPPED = 'demo stage 2', 'shipped'

# --quick: a few iterations of everything (the test of this script); numbers mean nothing
QUICK = dict(
    stage1=['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'param_scheduler.T_max=2',
            'default_hooks.checkpoint.interval=2', 'train_dataloader.num_workers=0'],
    stage2=['train_cfg.max_iters=2', 'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2', 'train_dataloader.num_workers=0'],
    detector=['train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
              'default_hooks.checkpoint.interval=1', 'train_dataloader.batch_size=4',
              'train_dataloader.num_workers=0', 'train_dataloader.dataset.indices=8',
              'val_dataloader.dataset.indices=4', 'test_dataloader.dataset.indices=4'])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out-dir', type=Path, default=Path('work_dirs/demo'),
                        help='trainings, tables, pictures, logs')
    parser.add_argument('--jobs', type=int, default=2,
                        help='trainings side by side (each gets cores / jobs threads)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N] (smoke job, pictures)')
    parser.add_argument('--quick', action='store_true',
                        help='a few iterations of everything: checks the pipeline, not the '
                        'method')
    parser.add_argument('--skip-smoke', action='store_true', help='skip step 1')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be >= 1, got {args.jobs}')
    return args


# ----------------------------------------------------------------------------- step 1
def print_versions() -> None:
    import mmagic
    import mmcv
    import mmdet
    import mmengine
    import torch
    import torchvision
    from mmcv.ops import get_compiling_cuda_version

    import uniremoval_mm
    print(f'python        {sys.version.split()[0]}')
    print(f'torch         {torch.__version__} (CUDA available: {torch.cuda.is_available()})')
    print(f'torchvision   {torchvision.__version__}')
    print(f'mmengine      {mmengine.__version__}')
    print(f'mmcv          {mmcv.__version__} (ops compiled with CUDA: '
          f'{get_compiling_cuda_version()})')
    print(f'mmdet         {mmdet.__version__}')
    print(f'mmagic        {mmagic.__version__}')
    print(f'uniremoval_mm {uniremoval_mm.__version__}')


def real_photo():
    """A real photograph that ships inside scikit-image (no download): RGB uint8."""
    from skimage import data
    return data.astronaut(), 'skimage.data.astronaut (NASA, public domain)'


def smoke_job(out_dir: Path, device: str) -> None:
    """mmdet's own Faster R-CNN config, random weights, boxes drawn on a real photo."""
    from mmdet.apis import inference_detector, init_detector
    from mmdet.visualization import DetLocalVisualizer
    from mmengine.hub import get_config

    cfg = get_config(DETECTOR_CFG)  # resolves mmdet:: to the installed mmdet's configs
    cfg.model.backbone.init_cfg = None  # its ImageNet weights would be a download
    # Random weights score every class near 1/81: keep the 10 best boxes to draw something.
    cfg.model.test_cfg.rcnn.update(score_thr=0.0, max_per_img=10)
    model = init_detector(cfg, checkpoint=None, device=device)
    rgb, source = real_photo()
    bgr = rgb[..., ::-1].copy()  # mmdet's pipelines expect BGR, as cv2 reads
    t0 = time.perf_counter()
    result = inference_detector(model, bgr)
    print(f'{DETECTOR_CFG} on {source}: {time.perf_counter() - t0:.2f} s, '
          f'{len(result.pred_instances)} boxes (random weights: they mean nothing; the '
          'pipeline is what is tested)')
    out_file = out_dir / 'pictures' / 'smoke_faster_rcnn.jpg'
    visualizer = DetLocalVisualizer(name='demo_smoke')
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample('smoke', rgb, data_sample=result, draw_gt=False,
                              pred_score_thr=0.0, out_file=str(out_file))
    # the same photo (the tool's default), every degradation and severity
    grid = out_dir / 'pictures' / 'degradation_grid.jpg'
    if _tool('misc/degradation_grid.py', '--out', str(grid), '--overwrite', quiet=True):
        raise RuntimeError(f'tools/misc/degradation_grid.py failed to write {grid}')


# ----------------------------------------------------------------------------- step 3
class Run:
    """One ``tools/train.py`` run of a chain of trainings.

    Args:
        name (str): Short name (also the work dir's name under the output dir).
        config (Path): Training config.
        work_dir (Path): Its work dir.
        options (list[str]): ``--cfg-options`` items.
    """

    def __init__(self, name: str, config: Path, work_dir: Path, options: List[str]) -> None:
        self.name, self.config, self.work_dir, self.options = name, config, work_dir, options
        self.progress = work_dir / 'progress.json'

    def state(self) -> dict:
        try:
            return json.loads(self.progress.read_text())
        except (OSError, ValueError):  # not written yet, or being replaced
            return {}

    def finished(self) -> bool:
        return bool(self.state().get('finished')) and self._last() is not None

    def command(self) -> List[str]:
        cmd = [sys.executable, str(REPO / 'tools' / 'train.py'), str(self.config),
               '--work-dir', str(self.work_dir)]
        if self._last() is not None:
            cmd.append('--resume')  # an interrupted run goes on where it stopped
        if self.options:
            cmd += ['--cfg-options'] + self.options
        return cmd

    def checkpoint(self) -> Path:
        """The last checkpoint the run saved."""
        return Path(self._last()).absolute()

    def _last(self) -> Optional[str]:
        """The run's latest checkpoint (mmengine's ``last_checkpoint``), if any."""
        from uniremoval_mm.utils.checkpoint import latest_checkpoint
        return latest_checkpoint(self.work_dir)


class Task:
    """A script run in a chain after the trainings it reads (e.g. the restoration table).

    Args:
        name (str): Short name (its log is ``<name>.log``).
        args (callable): Returns the script's command line when the task starts (the
            checkpoints it reads exist only then).
        output (Path): Where its stdout goes; the task is finished once this exists.
    """

    def __init__(self, name: str, args: Callable[[], List[str]], output: Path) -> None:
        self.name, self.args, self.output = name, args, output

    def state(self) -> dict:
        return {}  # no progress file: the bar shows the elapsed time

    def finished(self) -> bool:
        return self.output.is_file() and self.output.stat().st_size > 0

    def command(self) -> List[str]:
        return [sys.executable] + self.args()


def run_chains(chains: List[List[Union[Run, 'Task']]], log_dir: Path,
               threads: int) -> Dict[str, float]:
    """Run each chain's trainings in order, the chains side by side, with progress bars.

    Args:
        chains (list[list[Run | Task]]): Trainings and scripts; a chain's steps depend
            on each other.
        log_dir (Path): Each run's stdout + stderr goes to ``log_dir/<name>.log``.
        threads (int): ``OMP_NUM_THREADS`` of each run.

    Returns:
        dict[str, float]: Seconds per run (0 for a reused one).

    Raises:
        RuntimeError: If a run fails (the others are stopped); names its log.
    """
    from tqdm import tqdm
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               PYTHONUNBUFFERED='1')
    log_dir.mkdir(parents=True, exist_ok=True)
    tty = sys.stderr.isatty()  # bars on a terminal; a status line every 30 s in a log
    pending = [list(chain) for chain in chains]
    active: Dict[int, tuple] = {}  # chain index -> (run, process, log file, start, bar)
    seconds: Dict[str, float] = {}
    last_status = time.time()
    try:
        while any(pending) or active:
            for i, chain in enumerate(pending):
                while i not in active and chain:
                    run = chain.pop(0)
                    if run.finished():
                        print(f'{run.name}: finished before, reused ({run.work_dir})')
                        seconds[run.name] = 0.0
                        continue
                    log = open(log_dir / f'{run.name}.log', 'a')
                    stdout = log
                    if isinstance(run, Task):  # stdout is its result, stderr its log
                        stdout = open(run.output.with_name(run.output.name + '.part'), 'w')
                    proc = subprocess.Popen(run.command(), stdout=stdout,
                                            stderr=subprocess.STDOUT if stdout is log else log,
                                            env=env)
                    if stdout is not log:
                        stdout.close()
                    bar = tqdm(desc=f'{run.name:9s}', total=None, position=i, unit='it',
                               dynamic_ncols=True, leave=True) if tty else None
                    print(f'{run.name}: started, log {log.name}', flush=True)
                    active[i] = (run, proc, log, time.time(), bar)
            time.sleep(0.5)
            status = not tty and time.time() - last_status > 30
            for i, (run, proc, log, start, bar) in list(active.items()):
                state = run.state()
                text = _status(state)
                if bar is not None:
                    bar.total = state.get('total') or bar.total
                    bar.n = state.get('done') or 0
                    bar.set_postfix_str(text.split(' ', 1)[-1], refresh=True)
                elif status:
                    print(f'{run.name}: {text}, {time.time() - start:.0f} s', flush=True)
                if proc.poll() is None:
                    continue
                log.close()
                if bar is not None:
                    bar.close()
                del active[i]
                if isinstance(run, Task) and proc.returncode == 0:
                    os.replace(run.output.with_name(run.output.name + '.part'), run.output)
                if proc.returncode != 0 or not run.finished():
                    raise RuntimeError(
                        f'{run.name} failed (exit {proc.returncode}); its log: '
                        f'{log_dir / (run.name + ".log")}\n' + _tail(log_dir / f'{run.name}.log'))
                seconds[run.name] = round(time.time() - start, 1)
                print(f'{run.name}: done in {seconds[run.name] / 60:.1f} min', flush=True)
            if status:
                last_status = time.time()
    finally:
        for run, proc, log, _, bar in active.values():
            proc.terminate()
            proc.wait()
            log.close()
            if bar is not None:
                bar.close()
    return seconds


def _status(state: dict) -> str:
    """``12/200 train, loss 0.31`` from a ProgressHook file."""
    if not state:
        return 'running'
    text = f"{state.get('done', 0)}/{state.get('total') or '?'} {state.get('phase', '')}"
    return text + (f", loss {state['loss']:.3g}" if state.get('loss') is not None else '')


def _tail(path: Path, n: int = 15) -> str:
    return '\n'.join(path.read_text(errors='replace').splitlines()[-n:])


# ----------------------------------------------------------------------------- steps 4-5
def restoration_task(stage1: 'Run', stage2: 'Run', out_dir: Path, quick: bool) -> Task:
    """PSNR / SSIM of the input, the teachers and both students (markdown + json)."""
    def args() -> List[str]:
        cmd = [str(REPO / 'tools' / 'analysis_tools' / 'stage1_table.py'), str(STAGE1_CFG),
               '--student', f'stage 1={stage1.checkpoint()}',
               '--student', f'stage 2={stage2.checkpoint()}',
               '--json', str(out_dir / 'restoration.json')]
        if RELEASED.is_file():
            cmd += ['--student', f'{SHIPPED}={RELEASED}']
        # real pairs are cropped to their central 256 x 256 (the teachers are slow on CPU)
        return cmd + ['--max-side', '64' if quick else '256']
    return Task('restoration', args, out_dir / 'restoration.md')


def detection_table(det_ckpt: Path, restorer_ckpt: Path, out_dir: Path, quick: bool,
                    jobs: int) -> str:
    """The detector on clean / degraded / restored val images, as markdown: raw, then this
    run's stage-2 student and the shipped one (when the repository has it) in front."""
    work = out_dir / 'detection_benchmark'
    students = ['--student', f'{DEMO_STUDENT}={restorer_ckpt}']
    if RELEASED.is_file():
        students += ['--student', f'{SHIPPED}={RELEASED}']
    args = [str(DET_CFG), str(det_ckpt), '--restorer', str(STAGE1_CFG), *students,
            '--work-dir', str(work), '--label', 'demo', '--jobs', str(jobs)]
    if quick:
        args += ['--sets', 'clean', 'haze', '--max-images', '4']
    code = _tool('analysis_tools/detection_benchmark.py', *args)
    if code:
        raise RuntimeError(f'detection_benchmark.py {" ".join(args)} failed (exit {code})')
    return (work / 'demo.md').read_text().strip()


# ----------------------------------------------------------------------------- step 6
def _label(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((22, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([bar, img], axis=0)


def restoration_grid(stage1: Path, stage2: Path, out_file: Path, device: str) -> None:
    """One row per degradation: input | stage 1 | stage 2 | shipped student (when the
    repository has it) | ground truth (demo val pairs)."""
    from uniremoval_mm.apis import init_restorer, restore_image
    from uniremoval_mm.utils.constants import DEGRADATION_TYPES
    ckpts = [('stage 1', stage1), ('stage 2', stage2)]
    if RELEASED.is_file():
        ckpts.append((SHIPPED, RELEASED))
    nets = [init_restorer(STAGE1_CFG, str(ckpt), device) for _, ckpt in ckpts]
    rows = []
    for kind in DEGRADATION_TYPES:
        lq_path = sorted((Path('data/demo/pairs') / kind / 'lq').glob('*.png'))[0]
        lq = cv2.imread(str(lq_path))
        gt = cv2.imread(str(lq_path.parents[1] / 'gt' / lq_path.name))
        outs = [restore_image(net, lq, channel_order='bgr') for net in nets]
        tiles = ([_label(lq, f'{kind}: input')]
                 + [_label(out, name) for (name, _), out in zip(ckpts, outs)]
                 + [_label(gt, 'ground truth')])
        rows.append(np.concatenate([np.pad(t, ((2, 2), (2, 2), (0, 0)), constant_values=255)
                                    for t in tiles], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
            for r in rows]
    cv2.imwrite(str(out_file), np.concatenate(rows, axis=0), [int(cv2.IMWRITE_JPEG_QUALITY), 90])


def detection_pictures(det_ckpt: Path, restorer_ckpt: Path, out_dir: Path,
                       device: str) -> Path:
    """Boxes before | after restoration on one val image per degradation (restore.py)."""
    from uniremoval_mm.utils.constants import DEGRADATION_TYPES
    picked = out_dir / 'detection_inputs'
    picked.mkdir(parents=True, exist_ok=True)
    for kind in DEGRADATION_TYPES:
        src = sorted((Path('data/demo/detection') / kind / 'images').glob('*.png'))[0]
        dst = picked / f'{kind}_{src.name}'
        if not dst.exists():
            dst.write_bytes(src.read_bytes())
    drawn = out_dir / 'detection_drawn'
    code = _tool(
        'restore.py', str(STAGE1_CFG), str(restorer_ckpt), str(picked), str(drawn),
        '--overwrite', '--det-config', str(DET_CFG), '--det-checkpoint', str(det_ckpt),
        '--score-thr', '0.3', '--device', device, '--no-progress')
    if code:
        raise RuntimeError(f'tools/restore.py failed on {picked} (exit {code})')
    rows = [_label(cv2.imread(str(p)), f'{p.stem.split("_")[0]}: boxes on the input | '
                   'on the restored image (score >= 0.3)')
            for p in sorted(drawn.glob('*.png'))]
    out_file = out_dir / 'detection_before_after.jpg'
    cv2.imwrite(str(out_file), np.concatenate(rows, axis=0), [int(cv2.IMWRITE_JPEG_QUALITY), 90])
    return out_file


def training_curves(runs: List['Run'], out_file: Path) -> None:
    """Each run's losses (and the detector's mAP) over iterations, from mmengine's logs."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(runs), figsize=(5 * len(runs), 3.6))
    from uniremoval_mm.utils.errors import UsageError
    from uniremoval_mm.utils.training_logs import read_scalars
    for ax, run in zip(np.atleast_1d(axes), runs):
        try:
            train = read_scalars(run.work_dir)
        except UsageError as e:  # a run without logs gets an empty panel, not a failed demo
            print(f'training curves: {e}')
            train = []
        keys = [k for k in ('loss', 'gan.loss_g', 'gan.loss_d_real', 'content.loss',
                            'loss_cls', 'loss_bbox') if any(k in r for r in train)]
        for key in keys:
            points = [(r['iter'], r[key]) for r in train if key in r and 'iter' in r]
            if points:
                ax.plot(*zip(*points), label=key)
        ax.set_title(run.name)
        ax.set_xlabel('iteration')
        if ax.get_lines():
            ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_file, dpi=90)
    plt.close(fig)


# ----------------------------------------------------------------------------- main
def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out_dir.resolve()
    (out / 'pictures').mkdir(parents=True, exist_ok=True)
    timings: Dict[str, float] = {}
    t_all = time.time()

    def step(title: str):
        print(f'\n== {title} ==', flush=True)
        return time.time()

    print(f'shipped student: {shipped_line()}')

    t = step('1/5 versions and the stack smoke job')
    print_versions()
    if not args.skip_smoke:
        smoke_job(out, args.device)
    timings['smoke job'] = time.time() - t

    t = step('2/5 demo data (data/demo)')
    if _tool('misc/build_demo_data.py', '--out', 'data/demo'):
        print('demo: tools/misc/build_demo_data.py failed', file=sys.stderr)
        return 1
    timings['demo data'] = time.time() - t

    t = step(f'3/5 training: stage 1 -> stage 2 -> restoration table | detector '
             f'({args.jobs} side by side)')
    quick = QUICK if args.quick else {}
    stage1 = Run('stage1', STAGE1_CFG, out / 'stage1', quick.get('stage1', []))
    stage2 = Run('stage2', STAGE2_CFG, out / 'stage2',
                 [f'model.init_checkpoint={out / "stage1"}'] + quick.get('stage2', []))
    restoration = restoration_task(stage1, stage2, out, args.quick)
    detector = Run('detector', DET_CFG, out / 'detector', quick.get('detector', []))
    chains = [[stage1, stage2, restoration], [detector]]
    if args.jobs == 1:
        chains = [chains[0] + chains[1]]
    threads = max(1, (os.cpu_count() or 1) // min(args.jobs, len(chains)))
    print(f'logs: {out / "logs"}; {threads} thread(s) per job')
    try:
        timings.update({('' if k == 'restoration' else 'train ') + k: v for k, v in
                        run_chains(chains, out / 'logs', threads).items()})
    except RuntimeError as e:
        print(f'demo: {e}', file=sys.stderr)
        return 1
    ckpt2, ckpt_det = stage2.checkpoint(), detector.checkpoint()
    restoration_md = restoration.output.read_text().strip()
    print(restoration_md)

    try:
        t = step('4/5 detection: mAP on clean / degraded / restored (this run\'s stage-2 '
                 'student and the shipped one)')
        detection_md = detection_table(ckpt_det, ckpt2, out, args.quick, args.jobs)
        timings['detection benchmark'] = time.time() - t

        t = step('5/5 pictures')
        pictures = out / 'pictures'
        restoration_grid(stage1.checkpoint(), ckpt2, pictures / 'restoration_grid.jpg',
                         args.device)
        detection_pictures(ckpt_det, ckpt2, pictures, args.device)
        training_curves([stage1, stage2, detector], pictures / 'training_curves.png')
        timings['pictures'] = time.time() - t
    except (RuntimeError, ValueError) as e:  # ValueError: the tools' one-line UsageError
        print(f'demo: {e}', file=sys.stderr)
        return 1

    timings['total'] = time.time() - t_all
    results = out / 'results.md'
    results.write_text(report(args, restoration_md, detection_md, timings, out))
    for name in sorted(p.name for p in pictures.iterdir() if p.is_file()):
        print(f'picture: {pictures / name}')
    print(f'\nresults: {results}\n' + '\n'.join(
        f'{k:22s} {v / 60:5.1f} min' for k, v in timings.items()))
    return 0


def shipped_line() -> str:
    """The shipped student, named by its file and SHA-256 (or its absence)."""
    if not RELEASED.is_file():
        return f'{RELEASED.relative_to(REPO)} is absent: the tables show the demo\'s students only'
    from uniremoval_mm.utils.results import sha256_of
    return f'{RELEASED.relative_to(REPO)}, SHA-256 {sha256_of(RELEASED)}'


def report(args, restoration_md: str, detection_md: str, timings: Dict[str, float],
           out: Path) -> str:
    """``results.md``: what ran, the two tables, the pictures, the time of each step."""
    lines = ['# uniremoval_mm demo results', '',
             f'`python tools/demo.py --out-dir {args.out_dir} --jobs {args.jobs}'
             f'{" --quick" if args.quick else ""}`'
             + (' (quick: a few iterations, the numbers mean nothing)' if args.quick else ''),
             '', f'Both tables were measured by this run. `{SHIPPED}` = the shipped student, '
             f'not trained by this run: {shipped_line()} (docs/model_card.md).', '',
             '## Restoration (PSNR dB / SSIM, RGB; * = a teacher on its own degradation)', '',
             'stage 1 / stage 2 = this run\'s short trainings.', '', restoration_md, '',
             '## Detection (RTMDet-tiny trained on clean demo shapes; COCO bbox mAP)', '',
             f'`{DEMO_STUDENT}` = this run\'s stage-2 student, `{SHIPPED}` = the shipped one, '
             'each as a frozen `UniRemovalPreprocessor`; in brackets, the share of the mAP '
             'lost to the degradation that restoring wins back. The detector\'s training '
             'is seeded but depends on the thread count: its mAP differs between machines '
             'by a few hundredths (0.53-0.58 on clean images in three runs), so read two '
             'decimals.', '', detection_md, '', '## Pictures', '']
    for name in ('restoration_grid.jpg', 'detection_before_after.jpg',
                 'training_curves.png', 'degradation_grid.jpg', 'smoke_faster_rcnn.jpg'):
        if (out / 'pictures' / name).is_file():
            lines.append(f'![{name}](pictures/{name})')
    lines += ['', '## Time (minutes, this machine)', '', '| step | min |', '|---|---|']
    lines += [f'| {k} | {v / 60:.1f} |' for k, v in timings.items()]
    return '\n'.join(lines) + '\n'


def _tool(relative: str, *args: str, quiet: bool = False) -> int:
    """Run a script under tools/ in a subprocess (they are scripts, not a package).

    Args:
        relative (str): Its path under ``tools/``.
        *args (str): Its command line.
        quiet (bool): Keep its stdout and stderr unless it fails. Defaults to False.

    Returns:
        int: Its exit code.
    """
    sys.stdout.flush()  # what this process printed comes first
    proc = subprocess.run([sys.executable, str(REPO / 'tools' / relative), *args],
                          capture_output=quiet, text=True)
    if proc.returncode and quiet:
        print(proc.stdout + proc.stderr, file=sys.stderr)
    return proc.returncode


if __name__ == '__main__':
    sys.exit(main())
