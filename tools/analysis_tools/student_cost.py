#!/usr/bin/env python
"""Print params and MACs of every UniRemovalNet size, as a markdown table.

Convention: mmengine's counter (``mmengine.analysis.FlopAnalyzer``) counts one
multiply-add once; convolutions and matrix products are counted, element-wise
arithmetic is not. Usage: python tools/analysis_tools/student_cost.py [--shape 640 640]
[--results results/student_cost.json] (also write the table as a results file, rendered
into the docs by tools/misc/render_docs.py).
"""
import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--shape', type=int, nargs=2, default=[640, 640], metavar=('H', 'W'))
    parser.add_argument('--results', metavar='FILE', help='also write a results file here')
    args = parser.parse_args(argv)
    warnings.filterwarnings('ignore')
    from uniremoval_mm.models import SIZES, build_uniremoval_net
    from uniremoval_mm.utils.complexity import count_macs_params
    h, w = args.shape
    print(f'| size | width | enc / middle / dec blocks | params | GMACs at {h}x{w} |')
    print('|---|---|---|---|---|')
    rows = []
    for size, spec in SIZES.items():
        macs, params = count_macs_params(build_uniremoval_net(size), (3, h, w))
        blocks = f"{list(spec['enc_blocks'])} / {spec['middle_blocks']} / " \
                 f"{list(spec['dec_blocks'])}"
        print(f"| {size} | {spec['width']} | {blocks} | {params / 1e6:.3f} M | "
              f'{macs / 1e9:.2f} |')
        rows.append(dict(label=f'UniRemovalNet{size}', metrics=dict(
            width=spec['width'], blocks=blocks, params=params, params_M=params / 1e6,
            GMACs=macs / 1e9)))
    if args.results:
        from uniremoval_mm.utils.results import make_results, write_results
        command = 'python tools/analysis_tools/student_cost.py --shape ' + f'{h} {w}'
        columns = [dict(header='params', format='{params_M:.3f} M'),
                   dict(header=f'GMACs at {h}×{w}', format='{GMACs:.2f}')]
        write_results(args.results, make_results(
            'params and MACs of every UniRemovalNet size (mmengine counter, 1 multiply-add = '
            '1)', command, rows, split=f'input 3×{h}×{w}',
            views=dict(default=dict(label_header='network', columns=columns))))
    return 0


if __name__ == '__main__':
    sys.exit(main())
