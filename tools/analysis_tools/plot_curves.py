#!/usr/bin/env python
"""Training curves of several runs side by side, from mmengine's ``scalars.json`` logs.

Usage::

    python tools/analysis_tools/plot_curves.py OUT.png --run NAME=WORK_DIR [--run ...]
        [--keys sup.loss_pix igcl.loss] [--smooth 3]

One panel per key, one line per run (the runs overlaid, so a recipe change shows as the
gap between two lines). ``WORK_DIR`` is what ``tools/train.py --work-dir`` wrote: every
``*/vis_data/scalars.json`` under it is read in time order, so a resumed run continues
its own line. Keys a run never logged are left out of its panel with a note.
"""
import argparse
import sys
from pathlib import Path
from typing import List, Sequence, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.utils.cli import run_cli  # noqa: E402
from uniremoval_mm.utils.errors import UsageError  # noqa: E402
from uniremoval_mm.utils.training_logs import read_scalars  # noqa: E402

DEFAULT_KEYS = ('sup.loss_pix', 'loss')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('out', type=Path, help='the picture to write (.png / .jpg)')
    parser.add_argument('--run', action='append', default=[], metavar='NAME=WORK_DIR',
                        required=True, help='a training run; repeat for more')
    parser.add_argument('--keys', nargs='+', default=list(DEFAULT_KEYS),
                        help=f'logged scalars to plot, one panel each (default: '
                        f'{" ".join(DEFAULT_KEYS)})')
    parser.add_argument('--smooth', type=int, default=1,
                        help='moving average over this many logged points (default 1: none)')
    return parser.parse_args(argv)


def series(records: Sequence[dict], key: str, smooth: int) -> Tuple[List[int], List[float]]:
    """(iterations, values) of ``key``, with a trailing moving average of ``smooth``."""
    points = [(r['iter'], float(r[key])) for r in records if key in r]
    its = [p[0] for p in points]
    values = [p[1] for p in points]
    if smooth > 1:
        windows = [values[max(0, i - smooth + 1):i + 1] for i in range(len(values))]
        values = [sum(w) / len(w) for w in windows]
    return its, values


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.smooth < 1:
        raise UsageError(f'--smooth must be >= 1, got {args.smooth}')
    runs = []
    for spec in args.run:
        name, sep, path = spec.partition('=')
        if not sep or not name or not path:
            raise UsageError(f'--run takes NAME=WORK_DIR, got {spec!r}')
        runs.append((name, read_scalars(Path(path))))
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(args.keys), figsize=(5 * len(args.keys), 3.6), squeeze=False)
    for ax, key in zip(axes[0], args.keys):
        for name, records in runs:
            its, values = series(records, key, args.smooth)
            if its:
                ax.plot(its, values, label=name)
            else:
                print(f'{name}: never logged {key!r}')
        ax.set_title(key + (f' (moving average of {args.smooth})' if args.smooth > 1 else ''))
        ax.set_xlabel('iteration')
        ax.grid(alpha=0.3)
        if ax.get_lines():
            ax.legend(fontsize=7)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    plt.close(fig)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
