#!/usr/bin/env python
"""Mean ± sd over seeds per arm, and the paired difference between two arms, from a
``stage1_table.py --json`` file whose students are named ``<arm> s<seed>``.

    python tools/analysis_tools/stage1_table.py CONFIG --no-teachers \\
        --student "gt s0=..." --student "gt s1=..." --student "kd s0=..." ... --json t.json
    python tools/analysis_tools/paired_seeds.py t.json --arms gt kd
"""
import argparse
import json
import sys
from pathlib import Path
from typing import Dict

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.utils.seed_arms import arm_of, mean_sd, paired_differences  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('json', help='the output of stage1_table.py --json')
    parser.add_argument('--arms', nargs=2, required=True, metavar=('A', 'B'),
                        help='two arm names; the table reports B - A paired by seed')
    parser.add_argument('--metric', default='psnr', choices=['psnr', 'ssim'])
    return parser.parse_args(argv)


def _by_seed(results: dict, arm: str) -> Dict[str, dict]:
    found = {}
    for name, row in results.items():
        if name.startswith('student '):
            run_arm, seed = arm_of(name[len('student '):])
            if run_arm == arm and seed is not None:
                found[seed] = row
    if not found:
        raise SystemExit(f'no student named "{arm} s<seed>" in the table')
    return found


def main(argv=None) -> int:
    args = parse_args(argv)
    results = json.loads(Path(args.json).read_text())
    a, b = (_by_seed(results, arm) for arm in args.arms)
    seeds = sorted(set(a) & set(b), key=int)
    if not seeds:
        raise SystemExit('the two arms share no seed')
    sets = list(next(iter(a.values())))
    print(f'{args.metric}, mean ± sd over seeds {", ".join(seeds)} (n = {len(seeds)})')
    print(f'| set | {args.arms[0]} | {args.arms[1]} | {args.arms[1]} − {args.arms[0]} '
          '(paired) |')
    print('|---|---|---|---|')
    for s in sets:
        va = {k: a[k][s][args.metric] for k in seeds}
        vb = {k: b[k][s][args.metric] for k in seeds}
        cells = [mean_sd(list(v.values()), 2) for v in (va, vb)]
        cells.append(mean_sd(paired_differences(vb, va), 2))
        print(f'| {s} | ' + ' | '.join(cells) + ' |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
