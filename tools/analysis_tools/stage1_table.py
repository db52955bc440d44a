#!/usr/bin/env python
"""The stage-1 results table: input, every teacher on every degradation, the students.

For each set of degraded/clean pairs (the demo pairs per degradation type, and the real
pairs of ``--realdata`` when present) and each restorer (the degraded input itself,
each teacher of the config, each ``--student NAME=CHECKPOINT``), prints mean PSNR / SSIM
(mmagic's functional ``psnr`` / ``ssim``, RGB, uint8 after clamping to [0, 1]) as a
markdown table, teachers on their own degradation marked with ``*``. Writes JSON with
``--json``. Every restorer sees each picture mirrored outwards by ``--border`` pixels, as
``tools/restore.py`` restores it.

Two more tables follow the PSNR one, both in 8-bit levels: the mean brightness of the
output minus the clean image (a student that darkens real photos shows here first), and
the error split by frequency (:func:`band_errors`): the rms of output minus clean after a
Gaussian low-pass of σ = ``--band-sigma`` px (tone, colour, veil) and of what the
low-pass leaves (edges, texture, streaks, noise). A restorer that sharpens lowers the
second; one that re-tones a picture it should leave alone raises the first.

Real photos with no clean reference (``--unpaired NAME=DIR[#SPLIT]``, e.g. DAWN's
acceptance set ``#dawn-acceptance``, which is test-only): a second table of NIQE and
dark-channel haze density (lower is more natural / less haze) of the input and every
student, means over every image of the folder (resized so that the longer side is
``--unpaired-side``), and with ``--unpaired-grid`` a picture of a fixed sample of them
(evenly spaced in name order): input | each student.

    python tools/analysis_tools/stage1_table.py configs/uniremoval_stage1.py --no-teachers \\
        --student released=checkpoints/uniremoval-net-s_stage1-cpu.pth --skip-pairs \\
        --unpaired DAWN-acceptance=../shared/realdata/detection/dawn_fog/images#dawn-acceptance \\
        --unpaired-grid dawn.jpg

    python tools/analysis_tools/stage1_table.py configs/uniremoval_stage1.py \\
        --student full=work_dirs/stage1/iter_800.pth --json table.json --grid grid.jpg
"""
import argparse
import json
import sys
import warnings
from functools import partial
from pathlib import Path
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled
from uniremoval_mm.apis import DEFAULT_BORDER, bordered_forward  # noqa: E402
from uniremoval_mm.utils.results import write_results  # noqa: E402

DEMO_TYPES = ('haze', 'rain', 'blur', 'noise', 'mixed')
# (name, degradation type, sub-folder, degraded dir, clean dir, match)
REAL_SETS = (('SOTS-outdoor', 'haze', 'pairs/sots_outdoor', 'hazy', 'clear', 'reside'),
             ('Rain100L', 'rain', 'pairs/rain100l', 'rainy', 'clean', 'same'),
             ('rain-heavy', 'rain', 'pairs/rain_other', 'rainy', 'clean', 'same'))


def band_errors(out: np.ndarray, clean: np.ndarray, sigma: float = 4.0) -> Tuple[float, float]:
    """Rms error below and above a Gaussian low-pass, in the images' own units.

    Args:
        out (np.ndarray): The restored image, (H, W, C), any numeric dtype.
        clean (np.ndarray): The clean image, same shape.
        sigma (float): The low-pass's standard deviation in pixels (> 0).

    Returns:
        tuple[float, float]: ``(low, high)``: the rms of the low-passed error and of the
        error minus its low-pass (mirrored borders).
    """
    import cv2
    if out.shape != clean.shape:
        raise ValueError(f'band_errors: shapes differ, {out.shape} vs {clean.shape}')
    if sigma <= 0:
        raise ValueError(f'band_errors: sigma must be > 0, got {sigma}')
    err = out.astype(np.float32) - clean.astype(np.float32)
    low = cv2.GaussianBlur(err, (0, 0), sigma, borderType=cv2.BORDER_REFLECT101)
    low = low.reshape(err.shape)  # cv2 drops a trailing channel axis of 1
    return float(np.sqrt(np.mean(low**2))), float(np.sqrt(np.mean((err - low)**2)))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='stage-1 config (its teachers and its student network), '
                        'or any restorer config with model.generator (e.g. a specialist)')
    parser.add_argument('--student', action='append', default=[], metavar='NAME=CKPT',
                        help='a trained stage-1 (or student) checkpoint; repeatable')
    parser.add_argument('--student-config', action='append', default=[], metavar='NAME=CFG',
                        help='build student NAME from this config instead of the positional '
                        'one (another network: size, down_kernel, upsample); repeatable')
    parser.add_argument('--demo-root', default='data/demo/pairs')
    parser.add_argument('--realdata', default='../shared/realdata')
    parser.add_argument('--max-side', type=int, default=None,
                        help='centre-crop images to at most this side (faster)')
    parser.add_argument('--no-teachers', action='store_true',
                        help='only the input and the students (e.g. stage-2 checkpoints)')
    parser.add_argument('--border', type=int, default=DEFAULT_BORDER,
                        help='mirror every picture outwards by this many px before any '
                        'restorer runs on it, as tools/restore.py does (uniremoval_mm.apis.'
                        f'bordered_forward); 0 = none (default {DEFAULT_BORDER})')
    parser.add_argument('--band-sigma', type=float, default=4.0,
                        help='the low-pass (px) splitting the error into tone and detail '
                             '(band_errors)')
    parser.add_argument('--json', help='also write the numbers here')
    parser.add_argument('--results', metavar='FILE',
                        help='also write the PSNR / SSIM table as a results file '
                        '(results/*.json: the command, the checkpoints\' SHA-256, the '
                        'commit; rendered into the docs by tools/misc/render_docs.py)')
    parser.add_argument('--grid', help='also write a picture here: per set, its first pair '
                        'as input | each student | clean (teachers left out)')
    parser.add_argument('--grid-side', type=int, default=192,
                        help='tiles of the picture are centre crops of this side')
    parser.add_argument('--skip-pairs', action='store_true',
                        help='leave out the paired sets (only the --unpaired table)')
    parser.add_argument('--unpaired', action='append', default=[], metavar='NAME=DIR',
                        help='a folder of real degraded photos with no clean reference: '
                        'NIQE and haze density of the input and each student; repeatable')
    parser.add_argument('--unpaired-side', type=int, default=640,
                        help='resize unpaired photos so that the longer side is at most '
                        'this (default 640; 0 keeps them whole)')
    parser.add_argument('--unpaired-limit', type=int, default=0,
                        help='measure only the first N photos of each folder (0: all)')
    parser.add_argument('--unpaired-grid', help='also write a picture here: a fixed sample '
                        'of each unpaired folder as input | each student')
    parser.add_argument('--unpaired-sample', type=int, default=4,
                        help='photos per folder in --unpaired-grid (default 4)')
    return parser.parse_args(argv)


def _sets(args) -> List[Tuple[str, str, List[Tuple[str, str]]]]:
    from uniremoval_mm.datasets import PairedFolderDataset
    found = []

    def pairs(root, lq, gt, match):
        ds = PairedFolderDataset(data_root=str(root), lq_dir=lq, gt_dir=gt, match=match,
                                 pipeline=[])
        infos = [ds.get_data_info(i) for i in range(len(ds))]
        return [(d['img_path'], d['gt_path']) for d in infos]

    for kind in DEMO_TYPES:
        root = Path(args.demo_root) / kind
        if root.is_dir():
            found.append((f'demo {kind}', kind, pairs(root, 'lq', 'gt', 'same')))
    realdata = Path(args.realdata)
    for name, kind, sub, lq, gt, match in REAL_SETS:
        if (realdata / sub).is_dir():
            found.append((name, kind, pairs(realdata / sub, lq, gt, match)))
    if not found:
        raise SystemExit(f'no pairs under {args.demo_root} or {args.realdata}: build the demo '
                         'data with python tools/misc/build_demo_data.py')
    return found


def _read(path: str, max_side) -> np.ndarray:
    import mmcv
    img = mmcv.imread(path, channel_order='rgb')
    if img is None:
        raise SystemExit(f'{path}: cannot be decoded as an image')
    if max_side:
        h, w = img.shape[:2]
        top, left = max(0, (h - max_side) // 2), max(0, (w - max_side) // 2)
        img = img[top:top + max_side, left:left + max_side]
    return img


def _restorers(args) -> Dict[str, Tuple[str, Callable]]:
    """name -> (own degradation type or '', function on a (1, 3, H, W) tensor)."""
    from mmengine.registry import DefaultScope

    from uniremoval_mm.apis import init_restorer
    from uniremoval_mm.models import UniRemovalDistiller
    from uniremoval_mm.models.students import fuse_restorer
    from uniremoval_mm.utils.checkpoint import CheckpointError
    from uniremoval_mm.utils.cli import load_config
    cfg = load_config(args.config)
    model_cfg = cfg.model.to_dict()
    restorers = {'input': ('', lambda x: x)}
    with DefaultScope.overwrite_default_scope('mmagic'):
        teachers = UniRemovalDistiller._resolve_teachers(
            model_cfg.get('teachers') or {}, model_cfg.get('teacher_fallbacks') or {},
            model_cfg.get('missing_teacher', 'fallback'))
        for kind, tcfg in teachers.items():
            if tcfg is None or args.no_teachers:
                continue
            teacher = init_restorer(tcfg)
            name = teacher.model.__class__.__name__ if hasattr(teacher, 'model') else kind
            restorers[f'teacher {name}'] = (kind, teacher)
    student_cfgs = {}
    for spec in args.student_config:
        name, _, path = spec.partition('=')
        if not path:
            raise SystemExit(f'--student-config {spec!r}: expected NAME=CONFIG')
        student_cfgs[name] = path
    unknown = set(student_cfgs) - {s.partition('=')[0] for s in args.student}
    if unknown:
        raise SystemExit(f'--student-config names no --student: {", ".join(sorted(unknown))}')
    for spec in args.student:
        name, _, ckpt = spec.partition('=')
        if not ckpt:
            raise SystemExit(f'--student {spec!r}: expected NAME=CHECKPOINT')
        try:
            own_cfg = load_config(student_cfgs[name]) if name in student_cfgs else cfg
            net = fuse_restorer(init_restorer(own_cfg, ckpt))  # the fast inference path
        except (ValueError, CheckpointError) as e:
            raise SystemExit(f'--student {spec!r}: {e}')
        restorers[f'student {name}'] = ('all', net)
    if args.border:  # every restorer sees the same mirrored margin
        restorers = {name: (own, partial(bordered_forward, fn, border=args.border))
                     for name, (own, fn) in restorers.items()}
    return restorers


@torch.no_grad()
def main(argv=None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings('ignore')
    from mmagic.evaluation.metrics.psnr import psnr
    from mmagic.evaluation.metrics.ssim import ssim
    sets = [] if args.skip_pairs else _sets(args)
    unpaired = [_unpaired_set(spec) for spec in args.unpaired]
    if not sets and not unpaired:
        raise SystemExit('--skip-pairs needs at least one --unpaired NAME=DIR')
    restorers = _restorers(args)
    data = {name: [(_read(lq, args.max_side), _read(gt, args.max_side)) for lq, gt in items]
            for name, _, items in sets}
    from tqdm import tqdm
    results: Dict[str, Dict[str, Dict[str, float]]] = {}
    bar = tqdm(total=len(restorers) * len(sets), desc='restorer x set', dynamic_ncols=True,
               disable=None)
    firsts: Dict[str, Dict[str, np.ndarray]] = {name: {} for name, _, _ in sets}
    for rname, (own, fn) in restorers.items():
        results[rname] = {}
        for sname, kind, _ in sets:
            bar.update(1)
            scores = []
            for k, (lq, gt) in enumerate(data[sname]):
                x = torch.from_numpy(lq).permute(2, 0, 1)[None].float() / 255
                y = fn(x).clamp(0, 1)[0].mul(255).round().byte().permute(1, 2, 0).numpy()
                scores.append((psnr(y, gt, channel_order='rgb'),
                               ssim(y, gt, channel_order='rgb'),
                               float(y.mean()) - float(gt.mean()),
                               *band_errors(y, gt, args.band_sigma)))
                if k == 0 and (own == 'all' or rname == 'input'):
                    firsts[sname][rname] = y
            p, s, shift, low, high = np.mean(scores, axis=0)
            results[rname][sname] = dict(psnr=float(p), ssim=float(s), shift=float(shift),
                                         low_rms=float(low), high_rms=float(high),
                                         own=(own == kind))
            bar.write(f'{rname:28s} {sname:14s} {p:6.2f} dB  {s:.4f}', file=sys.stderr)
    bar.close()
    names = [s[0] for s in sets]
    if names:
        print('| restorer | ' + ' | '.join(names) + ' |')
        print('|---|' + '---|' * len(names))
        for rname, row in results.items():
            cells = [f"{'*' if row[n]['own'] else ''}{row[n]['psnr']:.2f} / "
                     f"{row[n]['ssim']:.3f}" for n in names]
            print(f'| {rname} | ' + ' | '.join(cells) + ' |')
        # a global brightness error shows here before anywhere else (a student that
        # darkens real photos: negative on the real pairs)
        print('\nMean brightness, output minus clean (8-bit levels; negative: darker)\n')
        print('| restorer | ' + ' | '.join(names) + ' |')
        print('|---|' + '---|' * len(names))
        for rname, row in results.items():
            print(f'| {rname} | ' + ' | '.join(f"{row[n]['shift']:+.1f}" for n in names) + ' |')
        print(f'\nError by frequency, rms of output minus clean (8-bit levels): below / above '
              f'a Gaussian low-pass of sigma {args.band_sigma:g} px\n')
        print('| restorer | ' + ' | '.join(names) + ' |')
        print('|---|' + '---|' * len(names))
        for rname, row in results.items():
            print(f'| {rname} | ' + ' | '.join(f"{row[n]['low_rms']:.2f} / {row[n]['high_rms']:.2f}"
                                               for n in names) + ' |')
    if args.grid and names:
        _write_grid(args.grid, firsts, {n: data[n][0][1] for n in names}, args.grid_side)
    if unpaired:
        students = {n: fn for n, (own, fn) in restorers.items() if own == 'all'}
        no_ref = _measure_unpaired(unpaired, students, args)
        for rname, row in no_ref.items():
            results.setdefault(rname, {}).update(row)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if args.results and names:
        write_results(args.results, results_file(results, names, args, argv))
    return 0


def results_file(results: Dict[str, Dict[str, Dict[str, float]]], names: List[str], args,
                 argv=None) -> dict:
    """The PSNR / SSIM table as a results dict (:mod:`uniremoval_mm.utils.results`).

    Each row is a restorer; its metrics are ``<set>/PSNR``, ``<set>/SSIM`` and
    ``<set>/shift`` (mean brightness, output minus clean) per set; its default view is the
    printed table.
    """
    import shlex

    from uniremoval_mm.utils.results import make_results
    rows = [dict(label=rname, metrics={
        f'{n}/{key}': row[n][field] for n in names if n in row
        for key, field in (('PSNR', 'psnr'), ('SSIM', 'ssim'), ('shift', 'shift'))})
        for rname, row in results.items() if any(n in row for n in names)]
    argv = sys.argv[1:] if argv is None else argv
    command = 'python tools/analysis_tools/stage1_table.py ' + ' '.join(
        shlex.quote(a) for a in argv)
    checkpoints = {spec.partition('=')[0]: spec.partition('=')[2] for spec in args.student}
    columns = [dict(header=n, format=[f'{{{n}/PSNR:.2f}} / {{{n}/SSIM:.3f}}'])
               for n in names]
    return make_results(
        'PSNR dB / SSIM (RGB, uint8) per set of pairs', command, rows, checkpoints,
        split=', '.join(names) + f'; border {args.border} px'
        + (f'; central {args.max_side} px crops' if args.max_side else '; full images'),
        views=dict(default=dict(columns=columns, label_header='restorer')))


def _unpaired_set(spec: str) -> Tuple[str, List[Path]]:
    """``NAME=DIR[#SPLIT]`` -> (name, its image files in name order); ``#dawn-acceptance``
    keeps one part of DAWN (:mod:`uniremoval_mm.datasets.realdata_splits`)."""
    from uniremoval_mm.datasets.image_files import IMAGE_EXTS
    from uniremoval_mm.datasets.realdata_splits import dawn_split_files
    name, sep, folder = spec.partition('=')
    folder, _, split = folder.partition('#')
    if not sep or not name or not folder:
        raise SystemExit(f'--unpaired {spec!r}: expected NAME=DIR or NAME=DIR#SPLIT')
    if not Path(folder).is_dir():
        raise SystemExit(f'--unpaired {name}: folder not found: {folder}')
    if split:
        try:
            return name, dawn_split_files(folder, split)
        except ValueError as e:
            raise SystemExit(f'--unpaired {name}: {e}')
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_EXTS)
    if not files:
        raise SystemExit(f'--unpaired {name}: no images in {folder}')
    return name, files


def _measure_unpaired(sets: List[Tuple[str, List[Path]]], students: Dict[str, Callable],
                      args) -> Dict[str, Dict[str, Dict[str, float]]]:
    """NIQE, PIQE and haze density of the input and each student on every photo; the table."""
    import cv2
    from tqdm import tqdm

    from uniremoval_mm.evaluation.metrics import dark_channel_density, niqe_score, piqe_score
    rows: Dict[str, Callable] = {'input': lambda x: x, **students}
    results: Dict[str, Dict[str, Dict[str, float]]] = {r: {} for r in rows}
    picture_rows = []
    for sname, files in sets:
        files = files[:args.unpaired_limit] if args.unpaired_limit else files
        step = max(1, len(files) // max(1, args.unpaired_sample))
        sample = set(files[::step][:args.unpaired_sample])
        scores = {r: [] for r in rows}
        for path in tqdm(files, desc=sname, dynamic_ncols=True, disable=None):
            img = _read(str(path), None)
            h, w = img.shape[:2]
            if args.unpaired_side and max(h, w) > args.unpaired_side:
                s = args.unpaired_side / max(h, w)
                img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
            x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
            tiles = [img]
            for rname, fn in rows.items():
                y = fn(x).clamp(0, 1)
                y8 = y[0].mul(255).round().byte().permute(1, 2, 0).numpy()
                scores[rname].append((niqe_score(y8.astype(np.float64)), piqe_score(y8),
                                      dark_channel_density(torch.from_numpy(y8).permute(
                                          2, 0, 1).float() / 255)))
                if rname != 'input':
                    tiles.append(y8)
            if path in sample:
                picture_rows.append((f'{sname} {path.stem}', tiles))
        for rname, values in scores.items():
            niqe, piqe, dark = np.array(values).T
            results[rname][sname] = dict(niqe=float(np.nanmean(niqe)),
                                         piqe=float(np.nanmean(piqe)), dark=float(dark.mean()),
                                         n=len(values))
    names = [s[0] for s in sets]
    side = f', longer side {args.unpaired_side} px' if args.unpaired_side else ''
    print(f'\nNo reference (NIQE / PIQE / dark-channel haze density, lower is better; mean '
          f'over the photos{side}):')
    print('| restorer | ' + ' | '.join(f'{n} ({results["input"][n]["n"]})' for n in names)
          + ' |')
    print('|---|' + '---|' * len(names))
    for rname, row in results.items():
        print(f'| {rname} | ' + ' | '.join(
            f"{row[n]['niqe']:.2f} / {row[n]['piqe']:.1f} / {row[n]['dark']:.3f}"
            for n in names) + ' |')
    if args.unpaired_grid and picture_rows:
        _write_unpaired_grid(args.unpaired_grid, picture_rows,
                             ['input'] + [n.replace('student ', '') for n in students])
    return {r: {f'{n} (no reference)': v for n, v in row.items()} for r, row in results.items()}


def _write_unpaired_grid(path: str, rows: List[Tuple[str, List[np.ndarray]]],
                         names: List[str], height: int = 240) -> None:
    """One row per photo: input | each student, scaled to ``height`` px, labelled."""
    import cv2
    lines = []
    for title, tiles in rows:
        scaled = []
        for name, img in zip(names, tiles):
            h, w = img.shape[:2]
            tile = cv2.resize(img, (round(w * height / h), height), interpolation=cv2.INTER_AREA)
            bar = np.full((20, tile.shape[1], 3), 255, np.uint8)
            cv2.putText(bar, f'{title}: {name}' if name == 'input' else name, (3, 14),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
            scaled.append(np.pad(np.concatenate([bar, tile]), ((2, 2), (2, 2), (0, 0)),
                                 constant_values=255))
        lines.append(np.concatenate(scaled, axis=1))
    width = max(line.shape[1] for line in lines)
    lines = [np.pad(line, ((0, 0), (0, width - line.shape[1]), (0, 0)), constant_values=255)
             for line in lines]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(path, np.concatenate(lines)[..., ::-1], [int(cv2.IMWRITE_JPEG_QUALITY), 88])


def _write_grid(path: str, outputs: Dict[str, Dict[str, np.ndarray]],
                clean: Dict[str, np.ndarray], side: int) -> None:
    """One row per set: input | each student | clean, centre crops with labels."""
    import cv2

    def crop(img):
        h, w = img.shape[:2]
        top, left = max(0, (h - side) // 2), max(0, (w - side) // 2)
        tile = np.full((side, side, 3), 255, np.uint8)
        part = img[top:top + side, left:left + side]
        tile[:part.shape[0], :part.shape[1]] = part
        return tile

    def label(img, text):
        bar = np.full((20, img.shape[1], 3), 255, np.uint8)
        cv2.putText(bar, text[:30], (3, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1,
                    cv2.LINE_AA)
        return np.pad(np.concatenate([bar, img]), ((2, 2), (2, 2), (0, 0)),
                      constant_values=255)

    rows = []
    for sname, outs in outputs.items():
        tiles = [label(crop(outs['input']), f'{sname}: input')]
        tiles += [label(crop(y), name.replace('student ', '')) for name, y in outs.items()
                  if name != 'input']
        tiles.append(label(crop(clean[sname]), 'clean'))
        rows.append(np.concatenate(tiles, axis=1))
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(path, np.concatenate(rows)[..., ::-1], [int(cv2.IMWRITE_JPEG_QUALITY), 90])


if __name__ == '__main__':
    sys.exit(main())
