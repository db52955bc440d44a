#!/usr/bin/env python
"""The all-in-one restoration table: PSNR / SSIM per task and their average, params, GMACs.

Evaluates any list of restorers on the test sets that
``tools/dataset_converters/prepare_allinone.py`` writes, in the layout of the field's
tables (AirNet, PromptIR, IDR):

* ``--setting 3task``: CBSD68 at sigma 15 / 25 / 50, Rain100L, SOTS-outdoor.
* ``--setting 5task``: CBSD68 at sigma 25, Rain100L, SOTS-outdoor, GoPro, LOL.
* ``--set NAME=DIR[:MATCH[:SPACE]]`` adds any folder of ``lq/`` + ``gt/`` pairs.

Each column is scored where its benchmark convention scores it, and the header says
which: ``RGB`` (all three channels: CBSD68, SOTS-outdoor, GoPro, LOL), ``Y`` (the luma of
ITU-R BT.601 in studio swing, as MATLAB's ``rgb2ycbcr`` and mmagic's ``convert_to='Y'``:
Rain100L) or ``grey`` (grey BSD68, ``--bsd68 gray``: the network gets the grey image on
three channels, its output is reduced by the full-range BT.601 luma
``0.299 R + 0.587 G + 0.114 B``, which returns a grey image unchanged, and compared with
the grey ground truth on 0-255). PSNR and SSIM are mmagic's functional ``psnr`` / ``ssim``
on uint8 images (outputs clamped to [0, 1], rounded), no border cropped, averaged over the
images of a set; "Average" is the mean over the columns. Params and GMACs are counted by
``uniremoval_mm.utils.complexity.count_macs_params`` (mmengine's ``FlopAnalyzer``: one
multiply-add = one MAC; convolutions, linear layers and matrix products only) at
1x3x256x256.

    python tools/analysis_tools/allinone_table.py --data-root data/allinone --setting 3task \\
        --model UniRemoval-S=configs/uniremoval_stage1.py:work_dirs/stage1/iter_800.pth \\
        --model NAFNet=mmagic::nafnet/nafnet_c64eb2248mb12db2222_8xb8-lr1e-3-400k_sidd.py:\\
nafnet.pth --json table.json

A model is ``NAME=CONFIG[:CHECKPOINT]``: the config's ``model.generator`` (mmagic
editors, our stage-1 configs) or its ``model`` is the network; the checkpoint is loaded
as data (``weights_only``) with ``generator.`` / ``module.`` prefixes stripped. Without
a checkpoint the network keeps its initialisation (for tests). On CPU, use
``--max-images`` and ``--tile``.
"""
import argparse
import json
import math
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled

SPACES = ('rgb', 'y', 'gray')
SPACE_LABELS = dict(rgb='RGB', y='Y', gray='grey')
COST_SHAPE = (3, 256, 256)


@dataclass
class Column:
    """One test set of the table.

    Args:
        name (str): Column title (``Rain100L``).
        task (str): ``noise``, ``rain``, ``haze``, ``blur``, ``lowlight`` or ``custom``.
        root (Path): The folder holding ``lq/`` and ``gt/``.
        match (str): ``PairedFolderDataset``'s match rule.
        space (str): ``'rgb'``, ``'y'`` or ``'gray'``.
    """

    name: str
    task: str
    root: Path
    match: str = 'same'
    space: str = 'rgb'

    @property
    def title(self) -> str:
        """The header cell: name and the channels it is scored on."""
        return f'{self.name} ({SPACE_LABELS[self.space]})'


def setting_columns(setting: str, data_root: Path, bsd68: str = 'color') -> List[Column]:
    """The columns of a standard setting, under ``data_root`` as prepare_allinone lays it.

    Args:
        setting (str): ``'3task'`` or ``'5task'``.
        data_root (Path): The ``--out`` of prepare_allinone.
        bsd68 (str): ``'color'`` (CBSD68, RGB) or ``'gray'`` (BSD68, grey). Defaults to
            ``'color'``.

    Returns:
        list[Column]: The columns, in the field's order.
    """
    sigmas = (15, 25, 50) if setting == '3task' else (25, )
    prefix, space = ('cbsd68', 'rgb') if bsd68 == 'color' else ('bsd68', 'gray')
    label = 'CBSD68' if bsd68 == 'color' else 'BSD68'
    cols = [Column(f'{label} σ={s}', 'noise', data_root / f'{prefix}-sigma{s}/test', 'same',
                   space) for s in sigmas]
    cols += [Column('Rain100L', 'rain', data_root / 'rain100l/test', 'same', 'y'),
             Column('SOTS-outdoor', 'haze', data_root / 'sots-outdoor/test', 'reside', 'rgb')]
    if setting == '5task':
        cols += [Column('GoPro', 'blur', data_root / 'gopro/test', 'same', 'rgb'),
                 Column('LOL', 'lowlight', data_root / 'lol/test', 'same', 'rgb')]
    return cols


def parse_set(spec: str) -> Column:
    """``NAME=DIR[:MATCH[:SPACE]]`` -> a column (MATCH defaults to same, SPACE to rgb)."""
    name, _, rest = spec.partition('=')
    if not name or not rest:
        raise SystemExit(f'--set {spec!r}: expected NAME=DIR[:MATCH[:SPACE]]')
    parts = rest.split(':')
    space = parts[2].lower() if len(parts) > 2 else 'rgb'
    if space not in SPACES:
        raise SystemExit(f'--set {spec!r}: SPACE must be one of {SPACES}')
    return Column(name, 'custom', Path(parts[0]), parts[1] if len(parts) > 1 and parts[1]
                  else 'same', space)


def parse_model(spec: str) -> Tuple[str, str, Optional[str]]:
    """``NAME=CONFIG[:CHECKPOINT]`` -> (name, config, checkpoint); ``mmagic::`` is kept."""
    name, _, rest = spec.partition('=')
    if not name or not rest:
        raise SystemExit(f'--model {spec!r}: expected NAME=CONFIG[:CHECKPOINT]')
    parts = re.split(r'(?<!:):(?!:)', rest, maxsplit=1)  # a single colon, not '::'
    return name, parts[0], parts[1] if len(parts) > 1 and parts[1] else None


def build_network(config: str, checkpoint: Optional[str]) -> torch.nn.Module:
    """The network of a config (``model.generator`` or ``model``), with weights loaded.

    Args:
        config (str): A config file, or ``mmagic::...``.
        checkpoint (str, optional): Weights, path or URL, loaded with
            ``weights_only=True`` by :func:`~uniremoval_mm.apis.init_restorer`. None
            keeps the initialisation.

    Returns:
        torch.nn.Module: The network, in eval mode.

    Raises:
        SystemExit: One line naming the config or checkpoint that cannot be used.
    """
    from uniremoval_mm.apis import init_restorer
    from uniremoval_mm.utils.checkpoint import CheckpointError
    try:
        return init_restorer(config, checkpoint)
    except (FileNotFoundError, ValueError, CheckpointError) as e:
        raise SystemExit(str(e))


def read_rgb(path: str) -> np.ndarray:
    """(H, W, 3) uint8 RGB (grey files on three channels); one-line error naming it."""
    from uniremoval_mm.datasets.image_files import ImageFileError, read_image, to_rgb8
    try:
        return to_rgb8(read_image(Path(path)))
    except ImageFileError as e:
        raise SystemExit(f'{path}: {e}')


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Full-range BT.601 luma, rounded to uint8 (a grey image comes back unchanged)."""
    luma = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.clip(np.round(luma), 0, 255).astype(np.uint8)


def score(out: np.ndarray, gt: np.ndarray, space: str) -> Tuple[float, float]:
    """PSNR and SSIM of uint8 RGB images, on the column's channels.

    Args:
        out (np.ndarray): Restored (H, W, 3) uint8 RGB.
        gt (np.ndarray): Ground truth (H, W, 3) uint8 RGB.
        space (str): ``'rgb'``, ``'y'`` or ``'gray'``.

    Returns:
        tuple[float, float]: PSNR (dB) and SSIM.
    """
    from mmagic.evaluation.metrics.psnr import psnr
    from mmagic.evaluation.metrics.ssim import ssim
    if space == 'gray':
        out, gt = to_gray(out)[..., None], to_gray(gt)[..., None]
        return psnr(out, gt), ssim(out, gt)
    kwargs = dict(convert_to='Y' if space == 'y' else None, channel_order='rgb')
    return psnr(out, gt, **kwargs), ssim(out, gt, **kwargs)


def load_pairs(column: Column, max_images: Optional[int]) -> List[Tuple[str, str]]:
    """(degraded, clean) paths of a column, sorted, at most ``max_images``."""
    from uniremoval_mm.datasets import PairedFolderDataset
    if not column.root.is_dir():
        raise SystemExit(f'{column.root}: not found (prepare it with '
                         'tools/dataset_converters/prepare_allinone.py)')
    try:
        ds = PairedFolderDataset(data_root=str(column.root), match=column.match, pipeline=[])
    except (FileNotFoundError, ValueError) as e:
        raise SystemExit(str(e).splitlines()[0])
    pairs = [(d['img_path'], d['gt_path']) for d in (ds.get_data_info(i) for i in range(len(ds)))]
    return pairs[:max_images] if max_images else pairs


def make_runner(net: torch.nn.Module, device: str, tile: int, overlap: int,
                pad_to: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function from (H, W, 3) uint8 RGB to the network's (H, W, 3) uint8 RGB output.

    Args:
        net (torch.nn.Module): RGB in [0, 1] to RGB in [0, 1].
        device (str): Torch device.
        tile (int): Tile side for :func:`uniremoval_mm.models.tiling.tiled_forward`; 0 = whole.
        overlap (int): Tile overlap (at most ``max_overlap(tile, align)`` is used).
        pad_to (int): Reflect-pad to a multiple of this first (networks that do not pad
            themselves); 0 or 1 = none.

    Returns:
        Callable[[np.ndarray], np.ndarray]: The runner.
    """
    from uniremoval_mm.models import fuse_restorer
    from uniremoval_mm.models.tiling import max_overlap, tiled_forward
    align = int(getattr(net, 'multiple', 1))
    fused = fuse_restorer(net)  # a UniRemovalNet's fused CPU inference form

    def forward(x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h % pad_to, -w % pad_to) if pad_to > 1 else (0, 0)
        if ph or pw:
            x = torch.nn.functional.pad(x, (0, pw, 0, ph), mode='reflect')
        return fused(x)[..., :h, :w]

    @torch.no_grad()
    def run(rgb: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255).to(device)
        if tile and max(rgb.shape[:2]) > tile:
            y = tiled_forward(forward, x, tile, min(overlap, max_overlap(tile, align)),
                              align=align)
        else:
            y = forward(x)
        if not torch.isfinite(y).all():
            raise SystemExit('the network output has NaN/Inf values')
        return y[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()

    return run


def cost(net: torch.nn.Module) -> Tuple[Optional[int], Optional[int]]:
    """(MACs, params) at 1x3x256x256, or (None, params) where the counter fails."""
    from uniremoval_mm.utils.complexity import count_macs_params
    params = sum(p.numel() for p in net.parameters())
    try:
        macs, params = count_macs_params(net, COST_SHAPE)
    except Exception as e:  # noqa: BLE001  (a network the tracer cannot follow)
        print(f'allinone_table: MACs not counted ({type(e).__name__}: {e})', file=sys.stderr)
        macs = None
    return macs, params


def evaluate(columns: List[Column], restorers: Dict[str, Optional[torch.nn.Module]],
             args) -> dict:
    """Score every restorer on every column.

    Args:
        columns (list[Column]): The test sets.
        restorers (dict[str, torch.nn.Module | None]): None is the degraded input itself.
        args (argparse.Namespace): ``max_images``, ``device``, ``tile``, ``overlap``,
            ``pad_to``, ``cost``.

    Returns:
        dict: The JSON document (see :func:`main`).
    """
    from tqdm import tqdm
    sets = {c.name: load_pairs(c, args.max_images) for c in columns}
    results = {}
    total = len(restorers) * sum(len(p) for p in sets.values())
    bar = tqdm(total=total, desc='images', dynamic_ncols=True, disable=None)
    for name, net in restorers.items():
        entry: dict = dict(params=None, macs=None, scores={})
        if net is not None:
            net = net.to(args.device)
            if args.cost:
                entry['macs'], entry['params'] = cost(net)
            else:
                entry['params'] = sum(p.numel() for p in net.parameters())
            run = make_runner(net, args.device, args.tile, args.overlap, args.pad_to)
        for col in columns:
            values = []
            for lq_path, gt_path in sets[col.name]:
                lq, gt = read_rgb(lq_path), read_rgb(gt_path)
                if lq.shape != gt.shape:
                    raise SystemExit(f'{lq_path}: {lq.shape[1]}x{lq.shape[0]} but its ground '
                                     f'truth {gt_path} is {gt.shape[1]}x{gt.shape[0]}')
                out = lq if net is None else run(lq)
                values.append(score(out, gt, col.space))
                bar.update(1)
            p, s = np.mean(values, axis=0)
            entry['scores'][col.name] = dict(psnr=float(p), ssim=float(s))
            bar.write(f'{name:24s} {col.title:28s} {p:6.2f} dB  {s:.4f}', file=sys.stderr)
        entry['average'] = {k: float(np.mean([v[k] for v in entry['scores'].values()]))
                            for k in ('psnr', 'ssim')}
        results[name] = entry
    bar.close()
    return dict(
        setting=args.setting,
        metrics='mmagic psnr / ssim on uint8, crop_border 0, mean over images; '
                'Average = mean over columns',
        cost=dict(input_shape=[1, *COST_SHAPE], counter='mmengine FlopAnalyzer via '
                  'uniremoval_mm.utils.complexity.count_macs_params; 1 multiply-add = 1 MAC'),
        columns=[dict(name=c.name, task=c.task, root=str(c.root), match=c.match,
                      space=SPACE_LABELS[c.space], images=len(sets[c.name])) for c in columns],
        results=results)


def markdown(doc: dict) -> str:
    """The table in the field's layout: one row per method, PSNR / SSIM per column."""
    cols = doc['columns']
    head = ['Method', 'Params (M)', 'GMACs (256²)'] + \
        [f"{c['name']} ({c['space']})" for c in cols] + ['Average']
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for name, entry in doc['results'].items():
        params = '–' if entry['params'] is None else f"{entry['params'] / 1e6:.2f}"
        macs = '–' if entry['macs'] is None else f"{entry['macs'] / 1e9:.2f}"
        cells = [f"{entry['scores'][c['name']]['psnr']:.2f} / "
                 f"{entry['scores'][c['name']]['ssim']:.3f}" for c in cols]
        avg = entry['average']
        cells.append(f"{avg['psnr']:.2f} / {avg['ssim']:.3f}")
        lines.append('| ' + ' | '.join([name, params, macs, *cells]) + ' |')
    images = ', '.join(f"{c['name']} {c['images']}" for c in cols)
    lines.append('')
    lines.append(f'PSNR (dB) / SSIM; RGB = three channels, Y = BT.601 studio-swing luma, grey = '
                 f'the grey channel; images per set: {images}. Params and GMACs: '
                 'mmengine FlopAnalyzer at 1x3x256x256, one multiply-add = one MAC.')
    return '\n'.join(lines)


def _finite(value):
    """``value`` with every non-finite float replaced by None (JSON has no Infinity)."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--model', action='append', default=[], metavar='NAME=CONFIG[:CKPT]',
                        help='a restorer: config (model.generator or model is the network) '
                        'and checkpoint; repeatable')
    parser.add_argument('--data-root', type=Path, default=Path('data/allinone'),
                        help='the --out of prepare_allinone.py (default: data/allinone)')
    parser.add_argument('--setting', choices=('3task', '5task'),
                        help='the standard columns (see above)')
    parser.add_argument('--bsd68', choices=('color', 'gray'), default='color',
                        help='denoising columns on CBSD68 (RGB, default) or grey BSD68 (grey)')
    parser.add_argument('--set', action='append', default=[], metavar='NAME=DIR[:MATCH[:SPACE]]',
                        help='an extra column: lq/ + gt/ under DIR, PairedFolderDataset MATCH '
                        f'(default same), SPACE one of {SPACES} (default rgb); repeatable')
    parser.add_argument('--no-input', dest='input', action='store_false',
                        help='leave out the row of the degraded input itself')
    parser.add_argument('--max-images', type=int, help='at most this many pairs per set')
    parser.add_argument('--tile', type=int, default=0, help='restore in tiles of this side '
                        '(uniremoval_mm.apis.tiled_forward); 0 = whole images')
    parser.add_argument('--overlap', type=int, default=32, help='tile overlap (default 32)')
    parser.add_argument('--pad-to', type=int, default=0, help='reflect-pad inputs to a '
                        'multiple of this for networks that do not pad themselves (e.g. 8)')
    parser.add_argument('--no-cost', dest='cost', action='store_false',
                        help='skip the GMACs count (params are still given)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--json', type=Path, help='also write the numbers here')
    args = parser.parse_args(argv)
    if not args.setting and not args.set:
        parser.error('give --setting and/or --set')
    if args.max_images is not None and args.max_images < 1:
        parser.error('--max-images must be >= 1')
    if args.tile < 0 or args.overlap < 0 or args.pad_to < 0:
        parser.error('--tile, --overlap and --pad-to must be >= 0')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings('ignore')
    columns = setting_columns(args.setting, args.data_root, args.bsd68) if args.setting else []
    columns += [parse_set(spec) for spec in args.set]
    restorers: Dict[str, Optional[torch.nn.Module]] = {'Input': None} if args.input else {}
    for spec in args.model:
        name, config, checkpoint = parse_model(spec)
        if name in restorers:
            raise SystemExit(f'--model {spec!r}: the name {name!r} is taken')
        restorers[name] = build_network(config, checkpoint)
    if not restorers:
        raise SystemExit('nothing to evaluate: give --model (or drop --no-input)')
    doc = evaluate(columns, restorers, args)
    print(markdown(doc))
    if args.json:  # an identical pair has an infinite PSNR: null in JSON
        args.json.write_text(json.dumps(_finite(doc), indent=2, ensure_ascii=False))
    return 0


if __name__ == '__main__':
    sys.exit(main())
