#!/usr/bin/env python
"""What restorers do to real degraded photos: tone, colour, haze left, NIQE, and a look.

For each folder of real photos (``--folder NAME=DIR``, optionally one part of DAWN's
split: ``NAME=DIR#dawn-acceptance``) and each restorer (``--restorer NAME=CHECKPOINT`` or
``NAME=CONFIG,CHECKPOINT``), prints one markdown row of
:func:`uniremoval_mm.evaluation.real_photos.summarise` (formulas: that module, and
docs/user_guides/real_photos.md), writes the per-photo records and the rows as JSON
(``--json``), a contact sheet of ``input | output ...`` for every photo (``--sheets DIR``)
and, with ``--bar``, checks each row against the real-fog acceptance bar.

    python tools/analysis_tools/real_photo_table.py \\
        --folder DAWN-acceptance=../shared/realdata/detection/dawn_fog/images#dawn-acceptance \\
        --restorer released=checkpoints/uniremoval-net-s_stage1-cpu.pth \\
        --json results/real_fog_released.json --sheets work_dirs/sheets --bar
"""
import argparse
import datetime
import json
import sys
import time
from pathlib import Path
from typing import Dict, List, Tuple

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.apis import DEFAULT_BORDER, Restorer, init_restorer  # noqa: E402
from uniremoval_mm.datasets.image_files import list_images  # noqa: E402
from uniremoval_mm.datasets.realdata_splits import dawn_split_files  # noqa: E402
from uniremoval_mm.evaluation import real_photos as rp  # noqa: E402
from uniremoval_mm.utils.checkpoint import file_sha256  # noqa: E402
from uniremoval_mm.utils.cli import run_cli  # noqa: E402
from uniremoval_mm.utils.errors import UsageError  # noqa: E402
from uniremoval_mm.utils.seed_arms import group_arms, mean_sd, paired_differences  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--folder', action='append', required=True, metavar='NAME=DIR[#SPLIT]',
                        help='a folder of real photos; #dawn-calibration / #dawn-acceptance '
                        'keeps one part of DAWN')
    parser.add_argument('--restorer', action='append', required=True,
                        metavar='NAME=[CONFIG,]CHECKPOINT',
                        help='a restorer: a checkpoint of the --network, or a config and '
                        'its checkpoint')
    parser.add_argument('--network', default='S',
                        help="the network of bare checkpoints (a size 'T'/'S'/'B', a "
                        "registered name or a config; default 'S')")
    parser.add_argument('--side', type=int, default=640,
                        help='shrink photos so that the longer side is at most this (640)')
    parser.add_argument('--border', type=int, default=DEFAULT_BORDER,
                        help=f'mirror border before restoring (default {DEFAULT_BORDER})')
    parser.add_argument('--limit', type=int, default=0,
                        help='only the first N photos of each folder (0 = all)')
    parser.add_argument('--only', help='comma-separated file stems: only these photos of each '
                        'folder (e.g. a figure of chosen photos)')
    parser.add_argument('--no-niqe', action='store_true', help='skip NIQE (the slow part)')
    parser.add_argument('--json', help='write rows and per-photo records here')
    parser.add_argument('--results', help='write the rows as a results file for the docs '
                        '(results/*.json, uniremoval_mm.utils.results)')
    parser.add_argument('--sheets', help='write contact sheets (input | outputs) here')
    parser.add_argument('--bar', action='store_true',
                        help='check every row against the real-fog acceptance bar')
    parser.add_argument('--reference', metavar='ARM',
                        help='restorers named "ARM sSEED": also print each arm\'s mean ± sd '
                        'over seeds and its difference from this arm, paired by seed')
    parser.add_argument('--threads', type=int, default=0,
                        help='torch threads (0 = torch default)')
    return parser.parse_args(argv)


def parse_folder(spec: str) -> Tuple[str, List[Path], str]:
    """``NAME=DIR[#SPLIT]`` to its name, files and split (``''`` for none)."""
    name, sep, rest = spec.partition('=')
    if not sep or not name or not rest:
        raise UsageError(f'--folder {spec!r}: expected NAME=DIR or NAME=DIR#SPLIT')
    folder, _, split = rest.partition('#')
    if not Path(folder).is_dir():
        raise UsageError(f'--folder {name}: {folder} is not a folder')
    try:
        files = dawn_split_files(folder, split) if split else list_images(Path(folder))
    except ValueError as e:
        raise UsageError(f'--folder {name}: {e}') from e
    if not files:
        raise UsageError(f'--folder {name}: no images in {folder}')
    return name, files, split


def parse_restorer(spec: str, network: str) -> Tuple[str, str, str]:
    """``NAME=[CONFIG,]CHECKPOINT`` to (name, config, checkpoint)."""
    name, sep, rest = spec.partition('=')
    if not sep or not name or not rest:
        raise UsageError(f'--restorer {spec!r}: expected NAME=CHECKPOINT or '
                         'NAME=CONFIG,CHECKPOINT')
    config, _, checkpoint = rest.rpartition(',')
    if not Path(checkpoint).is_file():
        raise UsageError(f'--restorer {name}: {checkpoint} is not a file')
    return name, config or network, checkpoint


def format_row(folder: str, name: str, row: Dict[str, float]) -> str:
    """One markdown row of the table."""
    niqe = (f"{row['niqe_in']:.2f} → {row['niqe_out']:.2f}" if 'niqe_out' in row else '-')
    return (f"| {folder} | {name} | {row['photos']} | {row['luma_ratio_median']:.2f} "
            f"({row['luma_ratio_p10']:.2f}-{row['luma_ratio_p90']:.2f}) | "
            f"{100 * row['dark_share']:.0f} % | "
            f"{100 * row['crushed_in']:.1f} → {100 * row['crushed_out']:.1f} % | "
            f"{row['cast_in']:.3f} → {row['cast_out']:.3f} | {row['contrast_ratio']:.2f}× | "
            f"{row['haze_in']:.3f} → {row['haze_out']:.3f} ({-100 * row['haze_reduction']:+.0f} %)"
            f" | {niqe} |")


HEADER = ('| photos | restorer | n | luma ratio, median (p10-p90) | darker than 0.8× | '
          'crushed black | colour cast | local contrast | haze (airlight-normalised) | NIQE |\n'
          '|---|---|---|---|---|---|---|---|---|---|')


#: Statistics of the arms table (key, label, scale).
ARM_KEYS = (('luma_ratio_median', 'luma ratio', 1), ('dark_share', 'darker %', 100),
            ('crushed_out', 'crushed %', 100), ('cast_out', 'cast', 1),
            ('contrast_ratio', 'contrast ×', 1), ('haze_reduction', 'haze −%', 100))


def arm_table(rows: List[dict], reference: str) -> str:
    """Per folder and arm, mean ± sd over seeds of :data:`ARM_KEYS`, and the paired
    difference (arm − ``reference``, by seed) under each."""
    lines = ['| photos | arm | seeds | ' + ' | '.join(label for _, label, _ in ARM_KEYS) + ' |',
             '|---|---|---|' + '---|' * len(ARM_KEYS)]
    for folder in dict.fromkeys(r['folder'] for r in rows):
        metrics = {r['restorer']: r['metrics'] for r in rows if r['folder'] == folder}
        arms = group_arms(list(metrics))
        if reference not in arms:
            raise UsageError(f'--reference {reference}: no restorer of that arm (arms: '
                             f'{list(arms)})')
        for arm, seeds in arms.items():
            cells, diffs = [], []
            for key, _, scale in ARM_KEYS:
                values = {s: scale * metrics[n][key] for s, n in seeds.items()}
                ref = {s: scale * metrics[n][key] for s, n in arms[reference].items()}
                cells.append(mean_sd(list(values.values()), 3 if scale == 1 else 1))
                diffs.append(mean_sd(paired_differences(values, ref), 3 if scale == 1 else 1))
            lines.append(f'| {folder} | {arm} | {len(seeds)} | ' + ' | '.join(cells) + ' |')
            if arm != reference:
                lines.append(f'| | {arm} − {reference} | | ' + ' | '.join(diffs) + ' |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    if args.threads:
        torch.set_num_threads(args.threads)
    folders = [parse_folder(spec) for spec in args.folder]
    specs = [parse_restorer(spec, args.network) for spec in args.restorer]
    restorers, shas = {}, {}
    for name, config, checkpoint in specs:
        restorers[name] = Restorer(init_restorer(config, checkpoint), border=args.border)
        shas[name] = file_sha256(Path(checkpoint))
    words = list(sys.argv[1:] if argv is None else argv)
    report = dict(command='python ' + ' '.join([sys.argv[0]] + words),
                  date=datetime.date.today().isoformat(), side=args.side, border=args.border,
                  restorers={n: dict(config=str(c), checkpoint=k, sha256=shas[n])
                             for n, c, k in specs}, rows=[], records={})
    print(HEADER)
    failed = False
    for folder_name, files, split in folders:
        if args.only:
            wanted = args.only.split(',')
            files = [f for f in files if f.stem in wanted]
            if len(files) != len(wanted):
                raise UsageError(f'--only: {folder_name} lacks '
                                 f'{sorted(set(wanted) - {f.stem for f in files})}')
        files = files[:args.limit] if args.limit else files
        start = time.time()
        result = rp.measure_folder(files, restorers, side=args.side, niqe=not args.no_niqe,
                                   keep_outputs=bool(args.sheets))
        seconds = time.time() - start
        for name in restorers:
            row = rp.summarise(result['records'][name])
            print(format_row(folder_name, name, row), flush=True)
            entry = dict(label=f'{folder_name} / {name}', folder=folder_name, split=split,
                         restorer=name, metrics=row)
            if args.bar:
                entry['bar'] = rp.check_bar(row)
                failed |= not all(line['passed'] for line in entry['bar'])
            report['rows'].append(entry)
            report['records'][f'{folder_name}/{name}'] = result['records'][name]
        print(f'({folder_name}: {len(files)} photos, {seconds:.0f} s)', file=sys.stderr)
        if args.sheets:
            out = Path(args.sheets)
            out.mkdir(parents=True, exist_ok=True)
            pages = rp.contact_sheets([f.name for f in files], result['inputs'],
                                      result['outputs'])
            for i, page in enumerate(pages):
                path = out / f'{folder_name}_{i + 1:02d}.jpg'
                cv2.imwrite(str(path), page[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 88])
            print(f'contact sheets: {out}/{folder_name}_*.jpg ({len(pages)})', file=sys.stderr)
    if args.bar:
        for entry in report['rows']:
            print(f"\nbar, {entry['label']}:")
            for line in entry['bar']:
                mark = 'pass' if line['passed'] else 'FAIL'
                print(f"  {mark}  {line['text']}: {line['value']:.3f} (limit {line['limit']:.3f})")
    if args.reference:
        table = arm_table(report['rows'], args.reference)
        report['arms'] = dict(reference=args.reference, table=table)
        print('\n' + table)
    if args.results:
        from uniremoval_mm.utils.results import make_results, write_results
        rows = []
        for entry in report['rows']:
            metrics = dict(entry['metrics'])
            for line in entry.get('bar', []):
                metrics[f"bar/{line['key']}"] = 'pass' if line['passed'] else 'fail'
            rows.append(dict(label=entry['label'], metrics=metrics))
        splits = ', '.join(f'{n}: {len(f)} photos' + (f' ({s})' if s else '')
                           for n, f, s in folders)
        write_results(args.results, make_results(
            'Real photos: tone, colour, haze left and NIQE, input vs output', report['command'],
            rows, checkpoints={n: k for n, _, k in specs},
            split=f'{splits}; longer side {args.side} px, border {args.border} px'))
        print(f'wrote {args.results}', file=sys.stderr)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(report, indent=1) + '\n')
        print(f'wrote {args.json}', file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
