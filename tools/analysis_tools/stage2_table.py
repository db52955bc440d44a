#!/usr/bin/env python
"""Stage-2 arms over seeds: no-reference quality on held-out real photos, real-pair PSNR.

Reads what a stage-2 run's own test and ``stage1_table.py`` wrote, for runs named
``<arm> s<seed>``:

    python tools/test.py CONFIG WORK_DIR/iter_500.pth --work-dir WORK_DIR/test ...
    python tools/analysis_tools/stage1_table.py ... --student "ARM sSEED=WORK_DIR/iter_500.pth" \\
        --json WORK_DIR/pairs.json
    python tools/analysis_tools/stage2_table.py --run "gan s0=work_dirs/s2v/gan_s0" \\
        --run "gan s1=..." --run "disc s0=work_dirs/s2v/disc_s0" ... \
        [--stage1-pairs S1.json]   # stage1_table.py --json of the stage-1 student itself

Per held-out set (the test loader's ``heldout/<kind>`` and ``dawn`` metrics) and measure
(NIQE, PIQE; lower is better): the input, stage 1 (the stage-1 student each run starts
from, measured in the same run: the mean over runs) and every arm's stage-2 output,
mean ± sd over its seeds; then each arm's change against stage 1 (how many seeds
improve) and, for every arm after the first, its difference to the first paired by seed.
The real pairs (PSNR, from ``pairs.json``) follow the same way, with the input and, given
``--stage1-pairs``, the stage-1 student and each arm's change against it (the acceptance
bound: at most 0.3 dB lost). The newest test json of each run is read.
"""
import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Dict, List, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.utils.seed_arms import arm_of, mean_sd, paired_differences  # noqa: E402

MEASURES = ('NIQE', 'PIQE')
SETS = ('haze', 'rain', 'blur', 'noise', 'mixed', 'clean')
PAIRS = ('SOTS-outdoor', 'Rain100L', 'rain-heavy')


def test_metrics(work_dir: Path) -> Dict[str, float]:
    """The metrics of the newest ``tools/test.py`` run under ``work_dir/test``.

    Args:
        work_dir (Path): A stage-2 run's work dir.

    Returns:
        dict: Metric name to value (None values dropped).

    Raises:
        FileNotFoundError: If no test json is there.
    """
    found = sorted((work_dir / 'test').glob('*/*.json'))
    if not found:
        raise FileNotFoundError(f'{work_dir}/test/*/*.json not found: run tools/test.py '
                                f'with --work-dir {work_dir}/test first')
    data = json.loads(found[-1].read_text())
    return {k: v for k, v in data.items() if isinstance(v, (int, float))}


def pair_psnr(path: Path, row: str = 'student') -> Dict[str, float]:
    """PSNR on the real pairs from a ``stage1_table.py --json`` file.

    Args:
        path (Path): The json (a run's ``pairs.json``).
        row (str): ``'student'`` (its first student row) or ``'input'``.

    Returns:
        dict: Pair set name (those of :data:`PAIRS` present) to PSNR; empty if the file
        is missing.

    Raises:
        ValueError: If the file holds no such row.
    """
    if not path.is_file():
        return {}
    table = json.loads(path.read_text())
    rows = [r for name, r in table.items() if name == row or name.startswith(f'{row} ')]
    if not rows:
        raise ValueError(f'{path}: no "{row}" row (made by stage1_table.py --json?)')
    return {s: rows[0][s]['psnr'] for s in PAIRS if s in rows[0]}


def parse_runs(specs: List[str]) -> Dict[str, Dict[str, Path]]:
    """``"ARM sSEED=DIR"`` specs to ``{arm: {seed: dir}}``, arms in the order given.

    Args:
        specs (list[str]): The ``--run`` values.

    Returns:
        dict: Arm name to seed to work dir.

    Raises:
        ValueError: If a spec is malformed, repeats a seed or names a missing folder.
    """
    arms: Dict[str, Dict[str, Path]] = {}
    for spec in specs:
        name, sep, path = spec.partition('=')
        arm, seed = arm_of(name.strip())
        if not sep or seed is None:
            raise ValueError(f'--run {spec!r}: expected "ARM sSEED=WORK_DIR"')
        if not Path(path).is_dir():
            raise ValueError(f'--run {spec!r}: {path} is not a folder')
        if seed in arms.get(arm, {}):
            raise ValueError(f'--run {spec!r}: seed {seed} of {arm!r} given twice')
        arms.setdefault(arm, {})[seed] = Path(path)
    return arms


def _fmt(values: List[float]) -> str:
    return mean_sd(values, digits=2)


def _paired(runs: Dict[str, Dict[str, float]], ref: Dict[str, Dict[str, float]],
            key: str) -> str:
    """``runs − ref`` on ``key`` over the seeds both have, as ``mean ± sd (n=N)``."""
    d = paired_differences({s: m[key] for s, m in runs.items() if key in m},
                           {s: m[key] for s, m in ref.items() if key in m})
    return f'{_fmt(d)} (n={len(d)})' if d else ''


def _rows(arms: Dict[str, Dict[str, Dict[str, float]]], keys: List[Tuple[str, str]],
          base: Dict[str, List[float]], lower_better: bool) -> List[str]:
    """Markdown rows: per key, base columns, each arm, arm − stage 1, paired vs first."""
    names = list(arms)
    lines = []
    for label, key in keys:
        cells = [label] + [_fmt(v) for v in (base[f'{key}|input'], base[f'{key}|stage1'])]
        changes, paired = [], []
        for arm in names:
            runs = arms[arm]
            out = [m[key] for m in runs.values() if key in m]
            s1 = [m.get(f'{key}|stage1') for m in runs.values() if key in m]
            cells.append(_fmt(out))
            diffs = [o - s for o, s in zip(out, s1) if s is not None]
            better = sum((d < 0) if lower_better else (d > 0) for d in diffs)
            changes.append(f'{_fmt(diffs)} ({better}/{len(diffs)} better)' if diffs else '')
            if arm != names[0]:
                paired.append(_paired(runs, arms[names[0]], key))
        lines.append('| ' + ' | '.join(cells + changes + paired) + ' |')
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--run', action='append', required=True, metavar='ARM sSEED=DIR',
                        help='a stage-2 work dir (repeatable); the first arm is the '
                        'reference of the paired differences')
    parser.add_argument('--stage1-pairs', type=Path,
                        help='stage1_table.py --json of the stage-1 student (real pairs)')
    args = parser.parse_args(argv)
    if args.stage1_pairs is not None and not args.stage1_pairs.is_file():
        parser.error(f'--stage1-pairs: {args.stage1_pairs} not found')
    try:
        specs = parse_runs(args.run)
        per_arm: Dict[str, Dict[str, Dict[str, float]]] = {}
        base: Dict[str, List[float]] = {}
        for arm, seeds in specs.items():
            per_arm[arm] = {}
            for seed, work in seeds.items():
                metrics = test_metrics(work)
                values: Dict[str, float] = {}
                for prefix in [f'heldout/{s}' for s in SETS] + ['dawn']:
                    for m in MEASURES:
                        if f'{prefix}/{m}_output' not in metrics:
                            continue
                        key = f'{prefix} {m}'
                        values[key] = metrics[f'{prefix}/{m}_output']
                        values[f'{key}|stage1'] = metrics[f'{prefix}/{m}_stage1']
                        for col in ('input', 'stage1'):
                            base.setdefault(f'{key}|{col}', []).append(
                                metrics[f'{prefix}/{m}_{col}'])
                for name, psnr in pair_psnr(work / 'pairs.json').items():
                    values[f'pair {name}'] = psnr
                for name, psnr in pair_psnr(work / 'pairs.json', 'input').items():
                    base[f'pair {name}|input'] = [psnr]
                per_arm[arm][seed] = values
    except (FileNotFoundError, ValueError) as e:
        print(f'stage2_table: {e}', file=sys.stderr)
        return 1
    names = list(per_arm)
    head = (['set', 'input', 'stage 1'] + [f'{a} (n={len(per_arm[a])})' for a in names]
            + [f'{a} − stage 1' for a in names] + [f'{a} − {names[0]} (paired)'
                                                   for a in names[1:]])
    sep = '|' + '---|' * len(head)
    found = {k for runs in per_arm.values() for v in runs.values() for k in v}
    # stage 1 and input are the same student and photos in every run: their mean
    base_m = {k: [statistics.mean(v)] for k, v in base.items()}
    for m in MEASURES:
        order = [f'heldout/{s} {m}' for s in SETS] + [f'dawn {m}']
        keys = [(k.split(' ')[0], k) for k in order if k in found]
        if not keys:
            continue
        print(f'\n{m} (lower is better), mean ± sd over seeds\n')
        print('| ' + ' | '.join(head) + ' |')
        print(sep)
        print('\n'.join(_rows(per_arm, keys, base_m, lower_better=True)))
    pair_keys = [(s, f'pair {s}') for s in PAIRS if f'pair {s}' in found]
    if pair_keys:
        stage1 = pair_psnr(args.stage1_pairs) if args.stage1_pairs else {}
        pair_head = (['pair set', 'input', 'stage 1'] + [f'{a} (n={len(per_arm[a])})'
                                                         for a in names]
                     + [f'{a} − stage 1' for a in names]
                     + [f'{a} − {names[0]} (paired)' for a in names[1:]])
        print('\nReal pairs, PSNR dB (stage1_table.py), mean ± sd over seeds\n')
        print('| ' + ' | '.join(pair_head) + ' |')
        print('|' + '---|' * len(pair_head))
        for label, key in pair_keys:
            s1 = stage1.get(label)
            cells = [label, _fmt(base.get(f'{key}|input', [])),
                     '' if s1 is None else f'{s1:.2f}']
            cells += [_fmt([v[key] for v in per_arm[a].values() if key in v]) for a in names]
            for a in names:
                d = [v[key] - s1 for v in per_arm[a].values() if key in v and s1 is not None]
                cells.append(f'{_fmt(d)} ({sum(x >= -0.3 for x in d)}/{len(d)} within 0.3)'
                             if d else '')
            cells += [_paired(per_arm[a], per_arm[names[0]], key) for a in names[1:]]
            print('| ' + ' | '.join(cells) + ' |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
