#!/usr/bin/env python
"""Stage-1 training speed: iterations per second, peak memory, and the teachers' share.

Builds the stage-1 model of a config (default configs/uniremoval_stage1.py, with its
real teachers where their weights are present), gives the types without a teacher one
(``--blur-teacher``, default our UniRemovalNet-S architecture with random weights: a
stand-in of specialist size, since only its cost matters here), then runs full training
steps (pre-processor, student, teachers, losses, backward, AdamW) on random batches of
``--batch`` images of ``--crop`` pixels, the degradation types in turn. Prints the
median time per step, iterations per second, the share of each step spent inside the
teachers (timed with forward hooks), and peak memory (the process's peak RSS on CPU,
``torch.cuda.max_memory_allocated`` on CUDA). A measurement, not a test.

``--teacher-outputs`` picks where the teachers' outputs come from: ``online`` (the
teachers run in every step), ``cached`` (they come with the batch, as from
``TeacherCacheDataset``: the teachers do not run), or ``both`` (default: the two in
alternating steps of one process, so that both see the same machine load, and their
ratio).

    python tools/analysis_tools/stage1_benchmark.py [--batch 8 --crop 128 --steps 10]
"""
import argparse
import json
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled

BLUR_TEACHERS = {
    'student-s': dict(type='FrozenTeacher', model=dict(type='UniRemovalNetS')),
    'student-b': dict(type='FrozenTeacher', model=dict(type='UniRemovalNetB')),
    'nafnet-gopro': dict(type='FrozenTeacher', model='mmagic::nafnet/'
                         'nafnet_c64eb11128mb1db1111_8xb8-lr1e-3-400k_gopro.py'),
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/uniremoval_stage1.py')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--crop', type=int, default=128)
    parser.add_argument('--steps', type=int, default=10, help='timed steps')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--types', nargs='+', default=['haze', 'rain', 'blur', 'noise'])
    parser.add_argument('--blur-teacher', choices=sorted(BLUR_TEACHERS), default='student-s',
                        help='teacher for blur when the config has none (random weights)')
    parser.add_argument('--teacher-outputs', choices=['online', 'cached', 'both'],
                        default='both')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--json', help='also write the numbers here')
    return parser.parse_args(argv)


def _peak_mib(device) -> float:
    import torch
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _batch(types, batch: int, crop: int, step: int, cached=()):
    import torch
    from mmagic.structures import DataSample
    g = torch.Generator().manual_seed(step)
    inputs, samples = [], []
    for i in range(batch):
        gt = torch.randint(0, 256, (3, crop, crop), generator=g, dtype=torch.uint8)
        lq = (gt.float() * 0.6 + 80).to(torch.uint8)
        inputs.append(lq)
        kind = types[i % len(types)]
        sample = DataSample(gt_img=gt, metainfo=dict(degradation_type=kind))
        if cached:
            sample.set_data(dict(ref_img=(gt.float() * 0.9 + 10).to(torch.uint8)))
            sample.set_metainfo(dict(has_teacher=kind in cached))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def main(argv=None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings('ignore')
    import torch
    from mmagic.registry import MODELS
    from mmengine.optim import OptimWrapper
    from mmengine.registry import DefaultScope

    from uniremoval_mm.utils.cli import load_config
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    cfg = load_config(args.config)
    model_cfg = cfg.model.to_dict()
    for kind in args.types:
        if model_cfg['teachers'].get(kind) is None and kind != 'mixed':
            model_cfg['teachers'][kind] = BLUR_TEACHERS[args.blur_teacher]
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(model_cfg).to(device)
    optim = OptimWrapper(torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-4))

    teacher_time = [0.0]

    def start(module, _):
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        module._bench_t0 = time.perf_counter()

    def stop(module, _, __):
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        teacher_time[0] += time.perf_counter() - module._bench_t0

    for teacher in model.teachers.values():
        teacher.register_forward_pre_hook(start)
        teacher.register_forward_hook(stop)

    model.train()
    modes = ['online', 'cached'] if args.teacher_outputs == 'both' else [args.teacher_outputs]
    steps = {m: [] for m in modes}
    shares = {m: [] for m in modes}
    for step in range(args.warmup + args.steps):
        for mode in modes:
            data = _batch(args.types, args.batch, args.crop, step,
                          cached=tuple(model.teachers) if mode == 'cached' else ())
            teacher_time[0] = 0.0
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            t0 = time.perf_counter()
            model.train_step(data, optim)
            if device.type == 'cuda':
                torch.cuda.synchronize(device)
            dt = time.perf_counter() - t0
            if step >= args.warmup:
                steps[mode].append(dt)
                shares[mode].append(teacher_time[0] / dt)
    result = dict(
        config=args.config, device=str(device), threads=torch.get_num_threads(),
        batch=args.batch, crop=args.crop, types=args.types,
        teachers={k: (v.model.__class__.__name__ if hasattr(v, 'model') else type(v).__name__)
                  for k, v in model.teachers.items()},
        peak_memory_mib=_peak_mib(device))
    print(f"stage 1 on {device} ({result['threads']} threads), batch {args.batch} of "
          f'{args.crop}x{args.crop}, teachers {result["teachers"]}')
    print(f'| teacher outputs | s/step (median, min-max of {args.steps}) | it/s | '
          'teachers\' share |')
    print('|---|---|---|---|')
    for mode in modes:
        median = statistics.median(steps[mode])
        result[mode] = dict(step_s_median=median, step_s_min=min(steps[mode]),
                            step_s_max=max(steps[mode]), iters_per_s=1 / median,
                            teacher_share_median=statistics.median(shares[mode]))
        print(f"| {mode} | {median:.3f} ({min(steps[mode]):.3f}-{max(steps[mode]):.3f}) | "
              f"{1 / median:.2f} | {result[mode]['teacher_share_median']:.0%} |")
    if len(modes) == 2:
        ratios = [a / b for a, b in zip(steps['online'], steps['cached'])]
        result['speedup_median'] = statistics.median(ratios)
        print(f"cached teacher outputs: {result['speedup_median']:.2f}x faster per step "
              '(median of per-round ratios)')
    print(f"peak memory {result['peak_memory_mib']:.0f} MiB")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == '__main__':
    sys.exit(main())
