#!/usr/bin/env python
"""Peak memory and time of restoring a large image, tiled versus whole (CPU).

Each measurement runs in a fresh Python process, which reports its own peak resident
memory (``ru_maxrss``) before and after the restoration: the difference is what the
restoration needed on top of the interpreter, the network and the image. Whole-image
runs are measured at smaller sizes and extrapolated linearly in pixels to the target
size (activations grow with the pixel count), unless ``--measure-whole`` asks for the
real thing.

Usage::

    python tools/analysis_tools/tiling_memory.py [--size 4000x3000] [--tile 512]
        [--overlap 32] [--model UniRemovalNetT] [--threads 1] [--measure-whole]
"""
import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--size', default='4000x3000', help='WxH of the image')
    parser.add_argument('--tile', type=int, default=512, help='tile size (px)')
    parser.add_argument('--overlap', type=int, default=32, help='tile overlap (px)')
    parser.add_argument('--model', default='UniRemovalNetT', help='registered network')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch CPU threads (0: torch\'s default)')
    parser.add_argument('--whole-sizes', default='1000x750,2000x1500',
                        help='sizes at which the whole image is measured, to extrapolate')
    parser.add_argument('--measure-whole', action='store_true',
                        help='also measure the whole image at --size (needs the memory)')
    parser.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _size(text: str):
    width, height = (int(v) for v in text.lower().split('x'))
    return width, height


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(args: argparse.Namespace) -> None:
    """Restore one image in this (fresh) process and print the measurements as JSON."""
    import torch

    from uniremoval_mm.apis import init_restorer, tiled_forward
    from uniremoval_mm.models import fuse_restorer
    if args.threads:
        torch.set_num_threads(args.threads)
    width, height = _size(args.size)
    torch.manual_seed(0)
    net = init_restorer(args.model)
    with torch.no_grad():
        for p in net.parameters():  # a fresh student is the identity: make it compute
            p.add_(torch.randn_like(p) * 0.05)
    run = fuse_restorer(net)  # a UniRemovalNet's fused CPU inference form
    x = torch.rand(1, 3, height, width)
    out = torch.empty_like(x)  # the result buffer counts as the image, not as inference
    before = _maxrss_mib()
    start = time.perf_counter()
    with torch.no_grad():
        if args.tile:
            out.copy_(tiled_forward(run, x, args.tile, args.overlap,
                                    align=getattr(net, 'multiple', 1)))
        else:
            out.copy_(run(x))
    seconds = time.perf_counter() - start
    print(json.dumps(dict(size=args.size, tile=args.tile, overlap=args.overlap,
                          seconds=round(seconds, 2), maxrss_before_mib=round(before),
                          maxrss_mib=round(_maxrss_mib()),
                          threads=torch.get_num_threads())))


def measure(args: argparse.Namespace, size: str, tile: int) -> dict:
    """Run :func:`child` in a fresh process."""
    cmd = [sys.executable, __file__, '--child', '--size', size, '--tile', str(tile),
           '--overlap', str(args.overlap), '--model', args.model, '--threads',
           str(args.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f'{" ".join(cmd)} failed:\n{proc.stderr[-3000:]}')
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result['extra_mib'] = result['maxrss_mib'] - result['maxrss_before_mib']
    return result


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args)
        return 0
    width, height = _size(args.size)
    print(f'{args.model}, {args.size}, CPU; peak RSS of a fresh process, "extra" = peak '
          'during restoration minus peak before it')
    tiled = measure(args, args.size, args.tile)
    print(f'tiled {args.tile}/{args.overlap}: {tiled["seconds"]:.1f} s, peak '
          f'{tiled["maxrss_mib"]} MiB, extra {tiled["extra_mib"]} MiB '
          f'({tiled["threads"]} threads)')
    per_mpix = []
    for size in args.whole_sizes.split(','):
        whole = measure(args, size, 0)
        w, h = _size(size)
        per_mpix.append(whole['extra_mib'] / (w * h / 1e6))
        print(f'whole {size}: {whole["seconds"]:.1f} s, peak {whole["maxrss_mib"]} MiB, '
              f'extra {whole["extra_mib"]} MiB ({per_mpix[-1]:.0f} MiB per Mpixel)')
    estimate = per_mpix[-1] * width * height / 1e6
    print(f'whole {args.size} (extrapolated from the largest measured size): extra '
          f'~{estimate:.0f} MiB, {estimate / max(tiled["extra_mib"], 1):.0f}x the tiled run')
    if args.measure_whole:
        whole = measure(args, args.size, 0)
        print(f'whole {args.size} (measured): {whole["seconds"]:.1f} s, peak '
              f'{whole["maxrss_mib"]} MiB, extra {whole["extra_mib"]} MiB')
    return 0


if __name__ == '__main__':
    sys.exit(main())
