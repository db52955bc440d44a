#!/usr/bin/env python
"""Params, MACs, latency and peak memory of the students, teachers and detectors, in one run.

Every model runs at batch 1 on random inputs with random weights (no checkpoint is
downloaded: speed does not depend on the values). For each model and size:

* params: every parameter of the network (for a detector with the pre-processor, the
  restorer's included);
* MACs: mmengine's counter (``mmengine.analysis.FlopAnalyzer``), whose convention is one
  multiply-add = one count; convolutions, linear layers and matrix products are counted,
  element-wise operations are not. ``2 * MACs / latency`` is the achieved FLOP/s;
* latency: ``--warmup`` runs, then the median, min and max of up to ``--runs`` timed runs
  under ``torch.inference_mode()`` (fewer when a run is slow: ``--budget`` seconds per
  model and size, at least ``--min-runs``); CUDA is synchronised around every run. By
  wall clock, or with ``--clock cpu`` by the process's CPU time (a loaded machine
  disturbs it less); ``--interleave`` times all models in one process in alternating
  rounds and takes ratios (the checks) as medians of per-round ratios: the way to
  compare models on a shared machine;
* peak memory: on CPU each model runs in a fresh subprocess; the figure is its peak
  resident memory (``VmHWM``, reset after the imports) minus its resident memory after
  the imports: weights, activations and allocator caches. Sizes run in ascending order,
  so the high-water mark belongs to the size reported. On CUDA
  ``torch.cuda.max_memory_allocated``.

The same run also times a 2048x2048 fp32 matmul (at the start and at the end: the
machine may be shared) and checks the cost targets (student-S against NAFNet-w32 and
Restormer, achieved FLOP/s against the matmul rate, the detector's overhead).

Models (``--models``, default all): ``student-T/S/B`` (``UniRemovalNet`` sizes, in their
fused inference form ``FusedUniRemovalNet``; ``student-S:training-path`` etc. time the
network itself, for comparison; ``student-S:bfloat16`` its fused form with bf16
products), ``teacher:NAME`` (each network in
``configs/_base_/teachers.py``, one per distinct architecture), ``nafnet-w32``
(mmagic's ``NAFNet`` built from its SIDD config with ``mid_channels=32``: the NAFNet
paper's SIDD width-32 model), ``restormer`` (mmagic's Restormer from
``restormer_official_rain13k.py``), ``detector`` and ``detector+S`` (Faster R-CNN R50-FPN
``test_step`` at ``--det-size``, without and with ``UniRemovalPreprocessor(restorer=S)``
with its default ``restorer_dtype='auto'``; also ``detector+T``/``detector+B``, and
``detector+S:float32`` / ``detector+S:bfloat16`` with ``restorer_dtype`` set).

Usage::

    python tools/analysis_tools/benchmark.py --sizes 256 640 --out work_dirs/benchmark.json
    python tools/analysis_tools/benchmark.py --models student-S nafnet-w32 --sizes 640
    python tools/analysis_tools/benchmark.py --skip restormer@640 teacher:nafnet_sidd
    python tools/analysis_tools/benchmark.py --models detector detector+S \
        detector+S:float32 --threads 1 --clock cpu --interleave --runs 15 --no-macs
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run from a clone, uninstalled

STUDENTS = ('T', 'S', 'B')
DTYPES = ('float32', 'bfloat16')  # restorer_dtype of the detector+S:DTYPE rows
NAFNET_CFG = 'mmagic::nafnet/nafnet_c64eb2248mb12db2222_8xb8-lr1e-3-400k_sidd.py'
RESTORMER_CFG = 'mmagic::restormer/restormer_official_rain13k.py'
DET_CFG = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
TEACHERS_FILE = ROOT / 'configs' / '_base_' / 'teachers.py'


# --- the models -------------------------------------------------------------------------
def _generator_cfg(path: str, **overrides) -> dict:
    from uniremoval_mm.utils.network_configs import network_cfg
    return network_cfg(path, overrides, require_generator=True)


def teacher_cfgs() -> Dict[str, dict]:
    """The teachers of ``configs/_base_/teachers.py``, one per distinct network.

    Returns:
        dict[str, dict]: ``teacher:NAME`` to the network's config (no checkpoint);
        networks equal to ``restormer`` or to an earlier teacher are left out.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(str(TEACHERS_FILE))
    seen = [_generator_cfg(RESTORMER_CFG)]
    out = {}
    for name, value in cfg.items():
        if not (isinstance(value, dict) and value.get('type') == 'FrozenTeacher'):
            continue
        model = value['model']
        net = _generator_cfg(model) if isinstance(model, str) else dict(model, _scope_='mmagic')
        if net in seen:
            continue
        seen.append(net)
        out[f'teacher:{name}'] = net
    return out


class _Bfloat16Path(nn.Module):
    """A student timed in its fused inference form with bf16 products."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.fused = net.fuse()

    def forward(self, x):
        return self.fused(x, torch.bfloat16)


class _TrainingPath(nn.Module):
    """A student timed as the network itself, the training path (what inference cost
    before its fused form, ``UniRemovalNet.fuse``)."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x, return_features=True)[0]


def model_names() -> List[str]:
    """Every model this script knows, in the order of the table."""
    return ([f'student-{s}' for s in STUDENTS] +
            [f'student-{s}:training-path' for s in STUDENTS] + ['student-S:bfloat16'] +
            list(teacher_cfgs()) + ['nafnet-w32', 'restormer', 'detector'] +
            [f'detector+{s}' for s in STUDENTS] + [f'detector+S:{d}' for d in DTYPES])


def build_benchmark_restorer(name: str) -> nn.Module:
    """Build a restoration network by benchmark name, with random weights, in eval mode.

    Args:
        name (str): ``student-T/S/B`` (optionally ``:training-path`` or ``:bfloat16``),
            ``teacher:NAME``, ``nafnet-w32`` or ``restormer``.

    Returns:
        nn.Module: The network (or the wrapper timing one of its paths); takes and
        returns (N, 3, H, W) RGB.

    Raises:
        KeyError: If the name is unknown.
    """
    from uniremoval_mm.apis import init_restorer
    torch.manual_seed(0)
    if name.startswith('student-'):
        size, _, path = name.split('-', 1)[1].partition(':')
        net = init_restorer(size)
        if path == 'bfloat16':
            return _Bfloat16Path(net).eval()
        return _TrainingPath(net).eval() if path else net.fuse().eval()
    if name == 'nafnet-w32':
        cfg = _generator_cfg(NAFNET_CFG, mid_channels=32)
    elif name == 'restormer':
        cfg = _generator_cfg(RESTORMER_CFG)
    elif name.startswith('teacher:'):
        cfg = dict(type='FrozenTeacher', model=teacher_cfgs()[name], _scope_='mmagic')
    else:
        raise KeyError(f'unknown model {name!r}; choose from {model_names()}')
    return init_restorer(cfg)


class _DetectorTensorForward(nn.Module):
    """``detector(x)`` in mmdet's tensor mode, so the MAC counter can trace it."""

    def __init__(self, detector: nn.Module, data_samples: list) -> None:
        super().__init__()
        self.detector = detector
        self.data_samples = data_samples

    def forward(self, x):
        return self.detector(x, self.data_samples, mode='tensor')


def build_detector(restorer: Optional[str], dtype: str = 'auto') -> nn.Module:
    """Faster R-CNN R50-FPN with random weights, optionally with the pre-processor.

    Args:
        restorer (str, optional): Student size (``'S'``) for ``UniRemovalPreprocessor``,
            or None for mmdet's own ``DetDataPreprocessor``.
        dtype (str): The pre-processor's ``restorer_dtype``. Defaults to ``'auto'``.

    Returns:
        nn.Module: The detector, in eval mode.
    """
    from mmdet.registry import MODELS
    from mmengine.hub import get_config
    from mmengine.registry import DefaultScope
    cfg = get_config(DET_CFG).model
    cfg.backbone.init_cfg = None  # random weights, nothing downloaded
    torch.manual_seed(0)  # the same detector weights with and without the pre-processor
    with DefaultScope.overwrite_default_scope('mmdet'):
        detector = MODELS.build(cfg)
        if restorer is not None:
            detector.data_preprocessor = MODELS.build(
                dict(cfg.data_preprocessor, type='UniRemovalPreprocessor',
                     restorer=dict(type=f'mmagic.UniRemovalNet{restorer}'),
                     restorer_dtype=dtype))
    return detector.eval()


def detector_batch(h: int, w: int) -> dict:
    """A dataloader batch of one random uint8 BGR image of ``h`` x ``w``."""
    from mmdet.structures import DetDataSample
    g = torch.Generator().manual_seed(0)
    img = torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8)
    sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                         scale_factor=(1.0, 1.0)))
    return dict(inputs=[img], data_samples=[sample])


# --- measuring --------------------------------------------------------------------------
def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


CLOCKS = {'wall': time.perf_counter, 'cpu': time.process_time}


def timed(fn: Callable[[], object], device: torch.device, clock: str = 'wall') -> float:
    """Seconds one call of ``fn`` takes by ``clock`` (``'wall'`` or ``'cpu'``: this
    process's CPU time, user + system, all its threads)."""
    now = CLOCKS[clock]
    _sync(device)
    t0 = now()
    fn()
    _sync(device)
    return now() - t0


def _summary(times: List[float], first: float) -> Dict[str, float]:
    return dict(median_s=statistics.median(times), min_s=min(times), max_s=max(times),
                runs=len(times), first_s=first, times=times)


def time_runs(fn: Callable[[], object], device: torch.device, warmup: int, runs: int,
              min_runs: int, budget: float, clock: str = 'wall') -> Dict[str, float]:
    """Warm up, then time ``fn`` at most ``runs`` times (fewer if it is slow).

    Args:
        fn (Callable): The call to time.
        device (torch.device): Synchronised around every run on CUDA.
        warmup (int): Untimed runs first (at least one: it sets the run count).
        runs (int): Most timed runs.
        min_runs (int): Fewest timed runs, whatever the budget.
        budget (float): Seconds the timed runs may take in all.
        clock (str): ``'wall'`` or ``'cpu'`` (see :func:`timed`). Defaults to
            ``'wall'``.

    Returns:
        dict: ``median_s``, ``min_s``, ``max_s``, ``runs``, ``first_s`` (the first
        warm-up run, which includes any compilation), ``times``.
    """
    first = None
    for _ in range(max(1, warmup)):
        last = timed(fn, device, clock)
        first = first if first is not None else last
    n = max(min_runs, min(runs, int(budget / max(last, 1e-6))))
    return _summary([timed(fn, device, clock) for _ in range(n)], first)


def _reset_peak_rss() -> bool:
    """Reset the process's peak resident memory (Linux); False where it cannot."""
    try:
        Path('/proc/self/clear_refs').write_text('5')
        return True
    except OSError:
        return False


def _status_mib(field: str) -> float:
    """A memory field of ``/proc/self/status`` (Linux) in MiB; elsewhere the peak."""
    try:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith(f'{field}:'):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _peak_rss_mib() -> float:
    """Peak resident memory of this process since the last reset, in MiB."""
    return _status_mib('VmHWM')


def _rss_mib() -> float:
    """Resident memory of this process now, in MiB."""
    return _status_mib('VmRSS')


def count_macs(model: nn.Module, inputs: torch.Tensor) -> Optional[int]:
    """MACs of ``model(inputs)`` by mmengine's counter; None if it cannot trace it."""
    from mmengine.analysis import FlopAnalyzer
    try:
        with torch.no_grad():
            analyzer = FlopAnalyzer(model, inputs)
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            return int(analyzer.total())
    except Exception as err:  # a detector's post-processing may not trace
        print(f'  (MACs not counted: {type(err).__name__}: {err})', file=sys.stderr)
        return None


def measure(name: str, sizes: Sequence[Tuple[int, int]], args) -> dict:
    """Params, and per size MACs, latency and peak memory of one model.

    Args:
        name (str): Benchmark name of the model.
        sizes (Sequence[tuple[int, int]]): (H, W) sizes, ascending.
        args (argparse.Namespace): The command line.

    Returns:
        dict: ``name``, ``params`` and ``sizes`` (a list of dicts, one per size).
    """
    device = torch.device(args.device)
    fresh = args.worker is not None and _reset_peak_rss()
    base_rss = _rss_mib()
    model, run_model = _build(name, args)
    result = dict(name=name, params=sum(p.numel() for p in model.parameters()), sizes=[])
    for h, w in sizes:
        fn = _call(run_model, name, h, w, args)
        if device.type == 'cuda':
            torch.cuda.reset_peak_memory_stats(device)
        with torch.inference_mode():
            timing = time_runs(fn, device, args.warmup, args.runs, args.min_runs, args.budget,
                               args.clock)
        if device.type == 'cuda':
            peak = torch.cuda.max_memory_allocated(device) / 2**20
        else:
            peak = _peak_rss_mib() - base_rss if fresh else None
        result['sizes'].append(dict(size=[h, w], peak_mem_mib=peak, **timing))
        print(f'  {name} {h}x{w}: {timing["median_s"]:.4f} s', file=sys.stderr)
    for entry in result['sizes']:  # after timing: tracing must not raise the memory peak
        h, w = entry['size']
        entry['macs'] = _macs(model, name, h, w, device) if args.macs else None
    return result


def _build(name: str, args) -> Tuple[nn.Module, Callable]:
    """The model of benchmark ``name`` on ``--device``, frozen, and what to call."""
    from mmagic.models.utils import set_requires_grad

    import uniremoval_mm  # noqa: F401  (registers our models)
    device = torch.device(args.device)
    if name.startswith('detector'):
        size, _, dtype = name.partition('+')[2].partition(':')
        model = build_detector(size or None, dtype or 'auto').to(device)
    else:
        model = build_benchmark_restorer(name).to(device)
    set_requires_grad(model, False)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    return model, torch.compile(model) if args.compile else model


def _call(run_model: Callable, name: str, h: int, w: int, args) -> Callable[[], object]:
    """One timed call: ``test_step`` on a batch for a detector, else ``model(x)``."""
    if name.startswith('detector'):
        batch = detector_batch(h, w)
        return lambda: run_model.test_step(batch)
    fmt = torch.channels_last if args.channels_last else torch.contiguous_format
    x = torch.rand(1, 3, h, w, device=torch.device(args.device)).to(memory_format=fmt)
    return lambda: run_model(x)


def measure_interleaved(names: Sequence[str], args) -> List[dict]:
    """Time all ``names`` in this process, interleaved: each round runs every model of
    a size once, in alternating order, so that a load changing during the run hits all
    of them alike; :func:`checks` then takes the median of the per-round ratios.

    Args:
        names (Sequence[str]): Benchmark names.
        args (argparse.Namespace): The command line (``--runs`` rounds after
            ``--warmup`` untimed ones; ``--budget`` and ``--min-runs`` are not used).

    Returns:
        list[dict]: Per model, as :func:`measure` (no peak memory).
    """
    device = torch.device(args.device)
    built = {name: _build(name, args) for name in names}
    results = {name: dict(name=name, sizes=[],
                          params=sum(p.numel() for p in built[name][0].parameters()))
               for name in names}
    for size in sorted({s for name in names for s in _sizes_for(name, args)}):
        group = [name for name in names if size in _sizes_for(name, args)]
        fns = {name: _call(built[name][1], name, *size, args) for name in group}
        with torch.inference_mode():
            first = {name: [timed(fns[name], device, args.clock)
                            for _ in range(max(1, args.warmup))][0] for name in group}
            times: Dict[str, List[float]] = {name: [] for name in group}
            for r in range(args.runs):
                for name in (group if r % 2 == 0 else group[::-1]):
                    times[name].append(timed(fns[name], device, args.clock))
        for name in group:
            results[name]['sizes'].append(
                dict(size=list(size), peak_mem_mib=None, paired=True,
                     **_summary(times[name], first[name])))
            print(f'  {name} {size[0]}x{size[1]}: {statistics.median(times[name]):.4f} s',
                  file=sys.stderr)
    for name in names:
        for entry in results[name]['sizes']:
            h, w = entry['size']
            entry['macs'] = _macs(built[name][0], name, h, w, device) if args.macs else None
    return [results[name] for name in names]


def _macs(model: nn.Module, name: str, h: int, w: int, device: torch.device) -> Optional[int]:
    from uniremoval_mm.models import FusedUniRemovalNet
    if isinstance(model, (_Bfloat16Path, FusedUniRemovalNet)):
        model = model.net  # the same products, counted on the traceable network
    if not name.startswith('detector'):
        return count_macs(model, torch.zeros(1, 3, h, w, device=device))
    pre = model.data_preprocessor
    data = pre(detector_batch(h, w), False)
    macs = count_macs(_DetectorTensorForward(model, data['data_samples']), data['inputs'])
    restorer = getattr(pre, 'restorer', None)
    if restorer is not None and macs is not None:
        macs += count_macs(restorer, torch.zeros(1, 3, h, w, device=device)) or 0
    return macs


def matmul_rate(device: torch.device, n: int = 2048, runs: int = 10,
                clock: str = 'wall') -> Dict[str, float]:
    """Median fp32 FLOP/s of an ``n`` x ``n`` matmul (2 n^3 FLOPs), after a warm-up,
    timed by ``clock`` (that of the models it is compared with)."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    timing = time_runs(lambda: a @ b, device, 2, runs, runs, 1e9, clock)
    return dict(gflops=2 * n**3 / timing['median_s'] / 1e9, **timing)


# --- the run ----------------------------------------------------------------------------
def run_worker(name: str, args) -> dict:
    """Measure ``name`` in a fresh subprocess (its own peak memory)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', name,
           '--sizes', *map(str, args.sizes), '--det-size', *map(str, args.det_size),
           '--runs', str(args.runs), '--warmup', str(args.warmup),
           '--min-runs', str(args.min_runs), '--budget', str(args.budget),
           '--device', args.device, '--skip', *args.skip]
    cmd += ['--channels-last'] * args.channels_last + ['--compile'] * args.compile
    cmd += ['--no-macs'] * (not args.macs) + ['--clock', args.clock]
    cmd += ['--threads', str(args.threads)] if args.threads else []
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        return dict(name=name, error=f'exit code {proc.returncode}', sizes=[])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _sizes_for(name: str, args) -> List[Tuple[int, int]]:
    if name.startswith('detector'):
        sizes = [tuple(args.det_size)]
    else:
        sizes = [(s, s) for s in sorted(args.sizes)]
    return [(h, w) for h, w in sizes if f'{name}@{h}' not in args.skip
            and f'{name}@{h}x{w}' not in args.skip]


def _find(results: List[dict], name: str, size: Tuple[int, int]) -> Optional[dict]:
    for r in results:
        if r['name'] == name:
            for entry in r['sizes']:
                if tuple(entry['size']) == tuple(size):
                    return entry
    return None


def checks(results: List[dict], rate: float, args) -> List[dict]:
    """The cost targets, from what this run measured (missing ones are left out).

    Args:
        results (list[dict]): Per-model results.
        rate (float): fp32 matmul GFLOP/s of this run.
        args (argparse.Namespace): The command line.

    Returns:
        list[dict]: ``check``, ``value``, ``target`` and ``passed``.
    """
    out = []
    size = (args.check_size, args.check_size)
    student = _find(results, 'student-S', size)
    for ref, factor in (('nafnet-w32', 10), ('restormer', 100)):
        other = _find(results, ref, size)
        if student and other:
            speedup = _ratio(other, student)
            out.append(dict(check=f'student-S vs {ref} at {size[0]}: speed-up',
                            value=round(speedup, 1), target=f'>= {factor}',
                            passed=speedup >= factor))
    for name in ('student-S', 'nafnet-w32'):
        entry = _find(results, name, size)
        if entry and entry.get('macs'):
            frac = 2 * entry['macs'] / entry['median_s'] / 1e9 / rate
            out.append(dict(check=f'{name} at {size[0]}: 2*MACs/time / matmul rate',
                            value=round(frac, 3), target='>= 0.25' if name == 'student-S'
                            else 'reference', passed=frac >= 0.25))
    det_size = tuple(args.det_size)
    det = _find(results, 'detector', det_size)
    for name in ['detector+S'] + [f'detector+S:{d}' for d in DTYPES]:
        det_s = _find(results, name, det_size)
        if det and det_s:
            slower = _ratio(det_s, det) - 1
            out.append(dict(check=f'{name} vs detector test_step: slower by',
                            value=round(slower, 3), target='<= 0.15', passed=slower <= 0.15))
    return out


def _ratio(a: dict, b: dict) -> float:
    """``a``'s time over ``b``'s: the median of the per-round ratios when both were
    timed in the same interleaved rounds, else the ratio of the medians."""
    ta, tb = a.get('times'), b.get('times')
    if a.get('paired') and b.get('paired') and ta and tb and len(ta) == len(tb):
        return statistics.median(x / y for x, y in zip(ta, tb))
    return a['median_s'] / b['median_s']


def print_table(results: List[dict], rate: float) -> None:
    """The results as a markdown table."""
    print('| model | params (M) | size | GMACs | median (s) | min-max (s) | runs | '
          'GFLOP/s (2*MACs/t) | % of matmul | peak mem (MiB) |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for r in results:
        if r.get('error'):
            print(f"| {r['name']} | failed: {r['error']} |||||||||")
        for e in r['sizes']:
            macs = e.get('macs')
            gflops = 2 * macs / e['median_s'] / 1e9 if macs else None
            cells = [r['name'], f"{r['params'] / 1e6:.3f}", f"{e['size'][0]}x{e['size'][1]}",
                     f'{macs / 1e9:.2f}' if macs else '-', f"{e['median_s']:.4f}",
                     f"{e['min_s']:.4f}-{e['max_s']:.4f}", str(e['runs']),
                     f'{gflops:.1f}' if gflops else '-',
                     f'{100 * gflops / rate:.1f}' if gflops else '-',
                     f"{e['peak_mem_mib']:.0f}" if e['peak_mem_mib'] is not None else 'n/a']
            print('| ' + ' | '.join(cells) + ' |')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=None,
                        help='benchmark names (default: all; see the module docstring)')
    parser.add_argument('--skip', nargs='*', default=[],
                        help='models (NAME) or model sizes (NAME@SIZE) to leave out')
    parser.add_argument('--sizes', type=int, nargs='+', default=[256, 640],
                        help='square sizes of the restoration networks')
    parser.add_argument('--det-size', type=int, nargs=2, default=[480, 640],
                        metavar=('H', 'W'), help='detector input size')
    parser.add_argument('--runs', type=int, default=10, help='most timed runs')
    parser.add_argument('--min-runs', type=int, default=2, help='fewest timed runs')
    parser.add_argument('--warmup', type=int, default=2, help='untimed runs first')
    parser.add_argument('--budget', type=float, default=30.0,
                        help='seconds of timed runs per model and size (fewer runs if slow)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--threads', type=int, default=None,
                        help="CPU threads (torch.set_num_threads); default: torch's")
    parser.add_argument('--channels-last', action='store_true',
                        help='run every model (and input) in channels_last')
    parser.add_argument('--compile', action='store_true', help='torch.compile every model')
    parser.add_argument('--no-macs', dest='macs', action='store_false',
                        help='do not count MACs (saves one traced forward per size)')
    parser.add_argument('--check-size', type=int, default=640,
                        help='size of the speed-up and FLOP/s checks')
    parser.add_argument('--in-process', action='store_true',
                        help='no subprocess per model (faster; no CPU peak memory)')
    parser.add_argument('--interleave', action='store_true',
                        help='in one process, time the models in alternating rounds (each '
                        'round runs every model once); ratios are medians of per-round '
                        'ratios. For A/B on a shared machine; no peak memory')
    parser.add_argument('--clock', choices=sorted(CLOCKS), default='wall',
                        help="'wall' (default) or 'cpu': this process's CPU time (user + "
                        'system), which a loaded machine disturbs less; with --threads 1 it '
                        'is the latency an idle core would see, with more threads their sum')
    parser.add_argument('--out', default=None, help='JSON file for the results')
    parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    threads = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore')
            return _run(args, argv)
    finally:
        torch.set_num_threads(threads)


def _run(args: argparse.Namespace, argv) -> int:
    if args.worker is not None:
        print(json.dumps(measure(args.worker, _sizes_for(args.worker, args), args)))
        return 0
    names = args.models or model_names()
    unknown = sorted(set(names) - set(model_names()))
    if unknown:
        print(f'unknown models {unknown}; choose from {model_names()}', file=sys.stderr)
        return 2
    device = torch.device(args.device)
    if args.clock == 'cpu' and device.type != 'cpu':
        print('--clock cpu times CPU work: use it with --device cpu', file=sys.stderr)
        return 2
    load = os.getloadavg()
    print(f'# {platform.processor() or platform.machine()}, torch {torch.__version__}, '
          f'{torch.get_num_threads()} threads, device {device}, load average '
          f'{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}')
    from uniremoval_mm.models.data_preprocessors.uniremoval_preprocessor import _cpu_bf16
    auto = 'bfloat16' if device.type == 'cpu' and _cpu_bf16() else 'float32'
    print(f"# UniRemovalPreprocessor restorer_dtype='auto' is {auto} here; clock "
          f"{args.clock}{', interleaved rounds' if args.interleave else ''}")
    rate_before = matmul_rate(device, clock=args.clock)
    names = [name for name in names if name not in args.skip and _sizes_for(name, args)]
    results = []
    if args.interleave:
        print(f'measuring {names}, interleaved', file=sys.stderr)
        results = measure_interleaved(names, args)
    for name in names if not args.interleave else []:
        print(f'measuring {name}', file=sys.stderr)
        results.append(measure(name, _sizes_for(name, args), args)
                       if args.in_process else run_worker(name, args))
    rate_after = matmul_rate(device, clock=args.clock)
    rate = statistics.mean([rate_before['gflops'], rate_after['gflops']])
    print(f'# fp32 2048x2048 matmul: {rate_before["gflops"]:.1f} GFLOP/s before, '
          f'{rate_after["gflops"]:.1f} after; {rate:.1f} used below')
    print_table(results, rate)
    found = checks(results, rate, args)
    for c in found:
        verdict = 'PASS' if c['passed'] else 'FAIL'
        if c['target'] == 'reference':
            verdict = 'info'
        print(f"{verdict}: {c['check']} = {c['value']} (target {c['target']})")
    if args.out:
        out = dict(device=str(device), torch=torch.__version__, threads=torch.get_num_threads(),
                   load_average=load, channels_last=args.channels_last, compile=args.compile,
                   clock=args.clock, interleave=args.interleave,
                   matmul=dict(before=rate_before, after=rate_after, gflops=rate),
                   results=results, checks=found, argv=sys.argv[1:] if argv is None else argv)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=1))
        print(f'# saved {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
