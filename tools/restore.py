#!/usr/bin/env python
"""Restore images or a video with a trained restorer (e.g. the UniRemovalNet student).

Usage::

    python tools/restore.py CONFIG CHECKPOINT INPUT OUT [--recursive] [--side-by-side]
        [--tile 512 --tile-overlap 32] [--auto-tile 2048] [--device cpu] [--overwrite]
        [--det-config DET_CONFIG [--det-checkpoint DET_CKPT] [--score-thr 0.3]]

INPUT is an image file, a folder (``--recursive`` for sub-folders), a quoted glob
(``'photos/**/*.jpg'``) or a video file; OUT is a folder (a video may also go to a file
named ``*.mp4`` / ``*.avi``). Files that cannot be read or restored are reported one line
each and the batch goes on; the exit code is 1 if any failed, 2 for a usage error.
Behaviour, formats and measured costs: ``docs/user_guides/restore.md``.
"""
import argparse
import glob
import os
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone, uninstalled
from uniremoval_mm.apis import (AUTO_TILE_SIZE, DEFAULT_BORDER, RestorationError,  # noqa: E402
                                Restorer)
from uniremoval_mm.datasets.image_files import IMAGE_EXTS  # noqa: E402
from uniremoval_mm.datasets.image_files import ImageFileError as FileError  # noqa: E402
from uniremoval_mm.datasets.image_files import Picture, read_image  # noqa: E402
from uniremoval_mm.models.tiling import check_overlap  # noqa: E402
from uniremoval_mm.utils.cli import run_cli  # noqa: E402
from uniremoval_mm.utils.errors import UsageError  # noqa: E402

#: Extensions OpenCV writes here; anything else is written as PNG.
WRITABLE_EXTS = {'.jpg', '.jpeg', '.jpe', '.png', '.bmp', '.tif', '.tiff', '.webp'}
ALPHA_EXTS = {'.png', '.tif', '.tiff', '.webp'}
DEPTH16_EXTS = {'.png', '.tif', '.tiff'}
VIDEO_EXTS = {'.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv'}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog='Formats, tiling and bad-file behaviour: docs/user_guides/restore.md')
    parser.add_argument('config', help='restorer config: a stage-1 config (its '
                        'model.generator is used) or a config whose model is the network')
    parser.add_argument('checkpoint', help='weights: a stage-1 / mmagic checkpoint '
                        '(generator.* keys) or a plain state dict; loaded as data')
    parser.add_argument('input', help='image file, folder, quoted glob, or video file')
    parser.add_argument('out', help='output folder (for a video: a folder or a .mp4/.avi file)')
    parser.add_argument('--recursive', '-r', action='store_true',
                        help='with a folder INPUT: also restore images in sub-folders')
    parser.add_argument('--side-by-side', action='store_true',
                        help='write input | restored side by side instead of the restored image')
    parser.add_argument('--tile', type=int, default=0,
                        help='restore in tiles of this size (px, a multiple of the network\'s '
                        'downsampling factor); 0 = whole image unless --auto-tile applies')
    parser.add_argument('--tile-overlap', type=int, default=32,
                        help='overlap of neighbouring tiles in px (default 32)')
    parser.add_argument('--auto-tile', type=int, default=2048,
                        help=f'tile images whose longer side exceeds this (with --tile, or '
                        f'{AUTO_TILE_SIZE}-px tiles); 0 = never (default 2048)')
    parser.add_argument('--border', type=int, default=DEFAULT_BORDER,
                        help='mirror every picture outwards by this many px before '
                        'restoring it, so that its edges are restored like the rest; 0 = '
                        f'none (default {DEFAULT_BORDER})')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda or cuda:N (default: cuda if available, else cpu)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace existing outputs (default: skip them, and say so)')
    parser.add_argument('--det-config', help='also run this MMDetection detector on the '
                        'input and on the restored image, and draw both side by side')
    parser.add_argument('--det-checkpoint', help='detector weights (default: random weights)')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='with --det-config: draw boxes scoring at least this')
    parser.add_argument('--no-progress', action='store_true', help='no progress bar')
    return parser.parse_args(argv)


# ---------------------------------------------------------------------------- inputs
def _has_glob(text: str) -> bool:
    return any(c in text for c in '*?[')


def _is_candidate(path: Path) -> bool:
    """Files a folder or glob offers: image extensions, or image content (hidden ones not)."""
    from uniremoval_mm.datasets.image_files import sniff_image_format
    if path.name.startswith('.') or not (path.is_file() or path.is_symlink()):
        return False  # a dangling link named like an image is offered, and reported
    return path.suffix.lower() in IMAGE_EXTS or bool(sniff_image_format(path))


def collect_inputs(spec: str, recursive: bool, out: Path) -> Tuple[List[Path], Path]:
    """The files to restore and the folder their output paths are relative to.

    Args:
        spec (str): INPUT: a file, a folder or a glob.
        recursive (bool): Walk sub-folders of a folder.
        out (Path): The output folder (never read as input).

    Returns:
        tuple[list[Path], Path]: Sorted files, and their base folder.

    Raises:
        UsageError: If nothing exists or matches, or a folder holds no image.
    """
    path = Path(spec)
    if path.is_file():
        return [path], path.parent
    if path.is_dir():
        found = path.rglob('*') if recursive else path.iterdir()
        base = path
    elif _has_glob(spec):
        found = (Path(p) for p in glob.glob(spec, recursive=True))
        parts = Path(spec).parts
        fixed = next((i for i, part in enumerate(parts) if _has_glob(part)), len(parts))
        base = Path(*parts[:fixed]) if fixed else Path('.')
    else:
        raise UsageError(f'input not found: {spec}')
    out = out.resolve()
    files = sorted(p for p in found if _is_candidate(p) and out not in p.resolve().parents)
    if not files:
        where = f'folder {spec}' + ('' if recursive or not path.is_dir() else
                                    ' (sub-folders are not searched without --recursive)')
        raise UsageError(f'no image files in {where}' if path.is_dir() else
                         f'no image files match {spec}')
    return files, base


def output_path(src: Path, base: Path, out: Path, picture: Optional[Picture] = None) -> Path:
    """Where the restored ``src`` goes: same relative path and name under ``out``.

    The extension is kept where OpenCV writes it and the content fits (alpha needs
    PNG/TIFF/WebP); otherwise the output is a PNG.
    """
    rel = src.relative_to(base) if src.is_relative_to(base) else Path(src.name)
    ext = src.suffix.lower()
    if ext not in WRITABLE_EXTS or (picture is not None and picture.alpha is not None
                                    and ext not in ALPHA_EXTS):
        rel = rel.with_name(rel.name + '.png') if ext not in IMAGE_EXTS else rel.with_suffix(
            '.png')
    return out / rel


# ------------------------------------------------------------------------- restoring
def build_restorer(config: str, checkpoint: str, device: str):
    """:func:`uniremoval_mm.apis.init_restorer`, with its errors as usage errors.

    Args:
        config (str): A config whose ``model.generator`` or ``model`` is the network (or
            a student size / registered network name).
        checkpoint (str): Weights (path or URL), loaded with ``weights_only=True``.
        device (str): Torch device.

    Returns:
        torch.nn.Module: The network, in eval mode on ``device``.

    Raises:
        UsageError: If the config or checkpoint cannot be used (one line naming it).
    """
    from uniremoval_mm.apis import init_restorer
    from uniremoval_mm.utils.checkpoint import CheckpointError
    try:
        return init_restorer(config, checkpoint, device)
    except (FileNotFoundError, ValueError, CheckpointError) as e:
        raise UsageError(str(e))


def _restore(restore: Restorer, rgb: np.ndarray, name: str) -> np.ndarray:
    """``restore(rgb, name)``; an unusable network output is this file's failure."""
    try:
        return restore(rgb, name)
    except RestorationError as e:
        raise FileError(f'{e}; nothing written') from e


class Detector:
    """An MMDetection detector drawing its boxes on the input and the restored image.

    Args:
        config (str): Detector config (a path or ``mmdet::...``).
        checkpoint (str, optional): Weights; None keeps random ones.
        device (str): Torch device.
        score_thr (float): Draw boxes scoring at least this.
    """

    def __init__(self, config: str, checkpoint: Optional[str], device: str,
                 score_thr: float) -> None:
        from mmdet.apis import init_detector
        from mmdet.utils import register_all_modules
        from mmdet.visualization import DetLocalVisualizer
        from mmengine.config import Config
        register_all_modules()
        if '::' in config:
            from mmengine.hub import get_config
            cfg = get_config(config)
        elif Path(config).is_file():
            cfg = Config.fromfile(config)
        else:
            raise UsageError(f'--det-config not found: {config}')
        if checkpoint is not None and not Path(checkpoint).is_file():
            raise UsageError(f'--det-checkpoint not found: {checkpoint}')
        self.model = init_detector(cfg, checkpoint, device=device)
        self.visualizer = DetLocalVisualizer(name='uniremoval_restore')
        self.visualizer.dataset_meta = self.model.dataset_meta
        self.score_thr = score_thr

    def draw(self, rgb8: np.ndarray) -> Tuple[np.ndarray, int]:
        """Detect on (H, W, 3) uint8 RGB; the drawn picture and the count of boxes drawn."""
        from mmdet.apis import inference_detector
        result = inference_detector(self.model, np.ascontiguousarray(rgb8[..., ::-1]))
        self.visualizer.add_datasample('restore', rgb8, data_sample=result, draw_gt=False,
                                       pred_score_thr=self.score_thr, show=False)
        count = int((result.pred_instances.scores >= self.score_thr).sum())
        return self.visualizer.get_image(), count


def _to8(arr: np.ndarray) -> np.ndarray:
    return (arr / 257).round().astype(np.uint8) if arr.dtype == np.uint16 else arr


def compose(picture: Picture, restored: np.ndarray, side_by_side: bool,
            detector: Optional[Detector], note: Callable[[str], None],
            name: str) -> Picture:
    """The picture to write: restored, input | restored, or both with boxes drawn."""
    if detector is not None:
        before, n_before = detector.draw(_to8(picture.rgb))
        after, n_after = detector.draw(_to8(restored))
        note(f'{name}: {n_before} boxes before, {n_after} after restoration '
             f'(score >= {detector.score_thr})')
        return Picture(np.concatenate([before, after], axis=1))
    alpha = picture.alpha
    if side_by_side:
        restored = np.concatenate([picture.rgb, restored], axis=1)
        alpha = None if alpha is None else np.concatenate([alpha, alpha], axis=1)
    return Picture(restored, alpha, picture.gray)


# --------------------------------------------------------------------------- writing
def encode(picture: Picture, ext: str) -> bytes:
    """Encode for ``ext``: grey stays one channel, alpha is kept, 16 bits where possible.

    Grey files were restored as RGB (the channels replicated); the mean of the three
    restored channels is written back (grey with alpha is written as RGBA). 16-bit
    pixels stay 16-bit in PNG/TIFF and are reduced to 8 bits for other formats.
    """
    rgb = picture.rgb
    if picture.gray and picture.alpha is None:
        pixels = np.round(rgb.astype(np.float32).mean(axis=2)).astype(rgb.dtype)[..., None]
    else:
        pixels = rgb[..., ::-1]  # OpenCV writes BGR
    if picture.alpha is not None:
        pixels = np.concatenate([pixels, picture.alpha[..., None]], axis=2)
    if pixels.dtype == np.uint16 and ext not in DEPTH16_EXTS:
        pixels = _to8(pixels)
    params = [int(cv2.IMWRITE_JPEG_QUALITY), 95] if ext in ('.jpg', '.jpeg', '.jpe') else []
    ok, buf = cv2.imencode(ext, np.ascontiguousarray(pixels.squeeze(2) if pixels.shape[2] == 1
                                                     else pixels), params)
    if not ok:
        raise FileError(f'OpenCV cannot encode {ext}')
    return buf.tobytes()


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file next to ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.{os.getpid()}.part')
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# ----------------------------------------------------------------------------- video
def restore_video(src: Path, dst: Path, restore: Restorer, side_by_side: bool,
                  detector: Optional[Detector], progress: bool) -> int:
    """Restore every frame of a video into ``dst`` (written whole, or not at all).

    Returns:
        int: Frames written.

    Raises:
        FileError: If the video cannot be decoded or encoded, or a frame fails.
    """
    from tqdm import tqdm
    cap = cv2.VideoCapture(str(src))
    ok, frame = cap.read() if cap.isOpened() else (False, None)
    if not ok:
        cap.release()
        raise FileError('cannot decode a frame (not a video OpenCV can read, or broken)')
    fps = cap.get(cv2.CAP_PROP_FPS)
    fps = fps if np.isfinite(fps) and fps > 0 else 25.0
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    fourcc = cv2.VideoWriter_fourcc(*('MJPG' if dst.suffix.lower() == '.avi' else 'mp4v'))
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f'.{dst.stem}.{os.getpid()}.part{dst.suffix}')
    writer, count = None, 0
    bar = tqdm(total=total, unit='frame', desc=src.name, disable=not progress)
    try:
        while ok:
            picture = Picture(np.ascontiguousarray(frame[..., ::-1]))
            out = compose(picture, _restore(restore, picture.rgb, f'{src.name} frame {count}'),
                          side_by_side, detector, lambda _: None, src.name).rgb
            if writer is None:
                writer = cv2.VideoWriter(str(tmp), fourcc, fps, (out.shape[1], out.shape[0]))
                if not writer.isOpened():
                    raise FileError(f'OpenCV cannot write {dst.suffix} video here')
            writer.write(np.ascontiguousarray(out[..., ::-1]))
            count += 1
            bar.update()
            ok, frame = cap.read()
        writer.release()
        writer = None
        os.replace(tmp, dst)
    except FileError as e:
        raise FileError(f'frame {count}: {e}' if count else str(e))
    finally:
        bar.close()
        cap.release()
        if writer is not None:
            writer.release()
        tmp.unlink(missing_ok=True)
    return count


# ------------------------------------------------------------------------------ main
def _check_args(args: argparse.Namespace, align: int) -> None:
    if min(args.tile, args.tile_overlap, args.auto_tile, args.border) < 0:
        raise UsageError('--tile, --tile-overlap, --auto-tile and --border must be >= 0')
    if args.tile:
        if args.tile % align:
            raise UsageError(f'--tile {args.tile} must be a multiple of {align} (the '
                             'network downsamples by it; tiles must share its grid)')
        _check_overlap(args, align)


def _check_overlap(args: argparse.Namespace, align: int) -> None:
    try:
        check_overlap(args.tile, args.tile_overlap, align, names=('--tile', '--tile-overlap'))
    except ValueError as e:
        raise UsageError(str(e)) from e


def _device(name: Optional[str]) -> str:
    import torch
    if name is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if name.startswith('cuda') and not torch.cuda.is_available():
        raise UsageError(f'--device {name}: no CUDA GPU is visible')
    if name != 'cpu' and not name.startswith('cuda'):
        raise UsageError(f'--device must be cpu, cuda or cuda:N, got {name}')
    return name


def main(argv=None) -> int:
    """Restore INPUT into OUT.

    Args:
        argv (list[str], optional): Arguments. Defaults to None (``sys.argv``).

    Returns:
        int: 0 if nothing failed (skipped outputs included), 1 if any file failed.

    Raises:
        UsageError: For a mistake in the command line, config or checkpoint.
    """
    from tqdm import tqdm
    args = parse_args(argv)
    progress = not args.no_progress

    def note(message: str, error: bool = False) -> None:
        tqdm.write(message, file=sys.stderr if error else sys.stdout)

    device = _device(args.device)
    out = Path(args.out)
    src = Path(args.input)
    video = src.is_file() and src.suffix.lower() in VIDEO_EXTS
    if not video:
        files, base = collect_inputs(args.input, args.recursive, out)
    if args.tile:
        _check_overlap(args, 1)  # before the network loads; its grid is checked after
    net = build_restorer(args.config, args.checkpoint, device)
    _check_args(args, int(getattr(net, 'multiple', 1)))
    restore = Restorer(net, device, args.tile, args.tile_overlap, args.auto_tile, note,
                       fused=True,  # the fused CPU inference form (UniRemovalNet.fuse)
                       border=args.border)
    detector = None
    if args.det_config:
        detector = Detector(args.det_config, args.det_checkpoint, device, args.score_thr)

    if video:
        return _run_video(src, out, args, restore, detector, note, progress)

    done: Dict[Path, Path] = {}
    counts = dict(restored=0, failed=0, skipped=0)
    bar = tqdm(files, unit='img', disable=not progress)
    for path in bar:
        bar.set_postfix_str(path.name[-30:], refresh=False)
        status = _restore_one(path, base, out, args, restore, detector, note, done)
        counts[status] += 1
    bar.close()
    print(f'{counts["restored"]} restored, {counts["failed"]} failed, {counts["skipped"]} '
          f'skipped (existing outputs) of {len(files)} files -> {out}')
    return 1 if counts['failed'] else 0


def _restore_one(path: Path, base: Path, out: Path, args, restore: Restorer,
                 detector: Optional[Detector], note, done: Dict[Path, Path]) -> str:
    """Restore one file; report any problem in one line. Returns the outcome's name."""
    try:
        picture = None
        for _ in range(2):  # the name first (skip early), then the name the content needs
            dst = output_path(path, base, out, picture)
            if dst in done:
                raise FileError(f'the output {dst} is already written for {done[dst]}')
            if dst.resolve() == path.resolve():
                raise FileError(f'the output {dst} would replace the input')
            if dst.exists() and not args.overwrite:
                note(f'skipped {path}: {dst} exists (pass --overwrite to replace it)')
                return 'skipped'
            picture = picture or read_image(path)
        restored = _restore(restore, picture.rgb, path.name)
        result = compose(picture, restored, args.side_by_side, detector, note, path.name)
        atomic_write(dst, encode(result, dst.suffix.lower()))
    except FileError as e:
        note(f'FAILED {path}: {e}', error=True)
        return 'failed'
    except MemoryError:
        note(f'FAILED {path}: out of memory; try --tile 512', error=True)
        return 'failed'
    except Exception as e:  # one bad file never stops the batch
        reason = (str(e).strip().splitlines() or [''])[0][:300]
        note(f'FAILED {path}: {type(e).__name__}: {reason}', error=True)
        return 'failed'
    done[dst] = path
    return 'restored'


def _run_video(src: Path, out: Path, args, restore: Restorer, detector: Optional[Detector],
               note, progress: bool) -> int:
    ext = src.suffix.lower() if src.suffix.lower() in ('.mp4', '.avi') else '.mp4'
    dst = out if out.suffix.lower() in ('.mp4', '.avi') else out / (src.stem + ext)
    if dst.exists() and not args.overwrite:
        note(f'skipped {src}: {dst} exists (pass --overwrite to replace it)')
        print(f'0 restored, 0 failed, 1 skipped (existing outputs) of 1 files -> {dst}')
        return 0
    try:
        frames = restore_video(src, dst, restore, args.side_by_side, detector, progress)
    except FileError as e:
        note(f'FAILED {src}: {e}', error=True)
        print(f'0 restored, 1 failed, 0 skipped of 1 files -> {dst}')
        return 1
    print(f'1 restored ({frames} frames), 0 failed, 0 skipped of 1 files -> {dst}')
    return 0


def cli(argv=None) -> int:
    """``main`` with a usage error printed as one line (exit code 2)."""
    return run_cli(main, argv)


if __name__ == '__main__':
    sys.exit(cli())
