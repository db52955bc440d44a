"""What a user sees when a restorer runs on real degraded photos with no clean reference.

Per photo, from the input ``x`` and the output ``y`` (RGB in [0, 1]; luma
``Y = 0.299 R + 0.587 G + 0.114 B``):

- **tone**: the luma ratio ``mean Y(y) / mean Y(x)``; the crushed-black fraction
  ``mean[Y < 0.08]`` of each; the colour cast ``|mean R - mean G| + |mean B - mean G|``
  of each (grey world: a daylight scene averages to grey);
- **haze left**, by measures that a plain darkening does not lower:
  local contrast ``mean sqrt(box(Y²) - box(Y)²)`` in 15-px windows, and the
  airlight-normalised dark channel ``mean min_c erode15(I_c / A_c)`` with ``A`` the
  image's own airlight (the mean colour of its brightest 0.1 % dark-channel pixels,
  He et al.). By the scattering model ``I = J t + A (1 - t)`` that mean is about
  ``1 - t``: the haze left. Scaling a picture by ``k`` scales ``A`` by ``k`` too, so
  the measure does not move;
- NIQE (optional: the slowest).

:func:`summarise` turns the per-photo records of one folder and one restorer into the
table's row; :func:`photo_flags` marks the photos a user would call darkened, crushed or
cast; :func:`check_bar` compares a row with a bar (e.g. issue-style acceptance bars).
"""
import math
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

#: Luma below which a pixel counts as crushed to black.
CRUSHED_LEVEL = 0.08
#: A photo whose luma ratio falls below this is "darker than 0.8x its input".
DARK_RATIO = 0.8
#: Window of the local contrast and of the dark channel (pixels).
WINDOW = 15
#: Share of the darkest-channel pixels that estimate the airlight (He et al.).
AIRLIGHT_TOP = 0.001
#: A photo is flagged when its crushed fraction grows by more than this.
CRUSHED_FLAG = 0.05
#: A photo is flagged when its colour cast grows by more than this.
CAST_FLAG = 0.02

TONE_KEYS = ('luma', 'crushed', 'cast', 'contrast', 'haze')


def _float_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim != 3 or img.shape[2] != 3:
        raise ValueError(f'expected an (H, W, 3) RGB image, got shape {img.shape}')
    if img.dtype == np.uint8:
        return img.astype(np.float32) / 255.0
    if img.dtype == np.uint16:
        return img.astype(np.float32) / 65535.0
    return img.astype(np.float32)


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB image in [0, 1], (H, W)."""
    rgb = _float_rgb(rgb)
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def colour_cast(rgb: np.ndarray) -> float:
    """Grey-world colour cast ``|mean R - mean G| + |mean B - mean G|`` (0 = grey)."""
    r, g, b = _float_rgb(rgb).reshape(-1, 3).mean(0)
    return float(abs(r - g) + abs(b - g))


def local_contrast(rgb: np.ndarray, window: int = WINDOW) -> float:
    """Mean standard deviation of luma in ``window``-px windows (mirrored borders)."""
    y = luma(rgb).astype(np.float64)
    k = (window, window)
    mean = cv2.boxFilter(y, -1, k, borderType=cv2.BORDER_REFLECT101)
    sq = cv2.boxFilter(y * y, -1, k, borderType=cv2.BORDER_REFLECT101)
    return float(np.sqrt(np.maximum(sq - mean * mean, 0)).mean())


def _dark_channel(rgb: np.ndarray, window: int) -> np.ndarray:
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (window, window))
    return cv2.erode(rgb.min(axis=2), kernel, borderType=cv2.BORDER_REFLECT101)


def estimate_airlight(rgb: np.ndarray, window: int = WINDOW,
                      top: float = AIRLIGHT_TOP) -> np.ndarray:
    """He et al.'s airlight: the mean colour of the brightest ``top`` share of the dark
    channel's pixels, per channel (floored at 0.02 so a black picture stays finite).

    Args:
        rgb (np.ndarray): (H, W, 3) RGB.
        window (int): Dark-channel window. Defaults to 15.
        top (float): Share of pixels used. Defaults to 0.001.

    Returns:
        np.ndarray: (3,) airlight in [0.02, 1].
    """
    rgb = _float_rgb(rgb)
    dark = _dark_channel(rgb, window).ravel()
    n = max(1, int(round(dark.size * top)))
    idx = np.argpartition(dark, dark.size - n)[-n:]
    return np.maximum(rgb.reshape(-1, 3)[idx].mean(0), 0.02)


def haze_density(rgb: np.ndarray, window: int = WINDOW) -> float:
    """Airlight-normalised dark channel: ``mean min_c erode(I_c / A_c)`` in [0, 1], about
    the haze ``1 - t`` left in the picture; unchanged when the picture is scaled."""
    rgb = _float_rgb(rgb)
    airlight = estimate_airlight(rgb, window)
    return float(np.clip(_dark_channel(np.clip(rgb / airlight, 0, 1), window), 0, 1).mean())


def photo_stats(rgb: np.ndarray) -> Dict[str, float]:
    """The tone and haze statistics of one picture.

    Args:
        rgb (np.ndarray): (H, W, 3) RGB, uint8 / uint16 or float in [0, 1].

    Returns:
        dict[str, float]: ``luma`` (mean), ``crushed``, ``cast``, ``contrast``,
        ``haze``.
    """
    y = luma(rgb)
    return dict(luma=float(y.mean()), crushed=float((y < CRUSHED_LEVEL).mean()),
                cast=colour_cast(rgb), contrast=local_contrast(rgb), haze=haze_density(rgb))


def compare(inp: Dict[str, float], out: Dict[str, float]) -> Dict[str, float]:
    """One photo's record: input and output statistics and the ratios between them.

    Args:
        inp (dict): :func:`photo_stats` of the input.
        out (dict): :func:`photo_stats` of the output.

    Returns:
        dict[str, float]: ``<key>_in``, ``<key>_out`` for every statistic, plus
        ``luma_ratio``, ``contrast_ratio`` and ``haze_ratio`` (output / input).
    """
    record = {f'{k}_in': inp[k] for k in inp}
    record.update({f'{k}_out': out[k] for k in out})
    for key in ('luma', 'contrast', 'haze'):
        record[f'{key}_ratio'] = out[key] / max(inp[key], 1e-6)
    return record


def photo_flags(record: Dict[str, float]) -> Dict[str, bool]:
    """What a user would call wrong with one output.

    Args:
        record (dict): From :func:`compare`.

    Returns:
        dict[str, bool]: ``darkened`` (luma ratio < :data:`DARK_RATIO`), ``crushed``
        (crushed fraction up by more than :data:`CRUSHED_FLAG`), ``cast`` (colour cast
        up by more than :data:`CAST_FLAG`).
    """
    return dict(darkened=record['luma_ratio'] < DARK_RATIO,
                crushed=record['crushed_out'] - record['crushed_in'] > CRUSHED_FLAG,
                cast=record['cast_out'] - record['cast_in'] > CAST_FLAG)


def summarise(records: Sequence[Dict[str, float]]) -> Dict[str, float]:
    """One restorer on one folder: the table's row.

    Args:
        records (Sequence[dict]): :func:`compare` per photo (``niqe_in`` / ``niqe_out``
            used when present).

    Returns:
        dict[str, float]: ``photos``; the luma ratio's ``luma_ratio_median`` and its
        ``p10``/``p25``/``p75``/``p90``; ``dark_share`` (share of photos darker than
        0.8x); ``crushed_in`` / ``crushed_out`` (means) and ``crushed_share`` (share of
        photos flagged crushed); ``cast_in`` / ``cast_out`` (means) and ``cast_share``;
        ``contrast_ratio`` (median of per-photo ratios); ``haze_in`` / ``haze_out``
        (means) and ``haze_reduction`` (``1 - haze_out / haze_in``); ``niqe_in`` /
        ``niqe_out`` (means over finite values) when measured.
    """
    if not records:
        raise ValueError('summarise: no photos')
    col = lambda key: np.array([r[key] for r in records], np.float64)  # noqa: E731
    ratio = col('luma_ratio')
    flags = [photo_flags(r) for r in records]
    row = dict(photos=len(records), luma_ratio_median=float(np.median(ratio)))
    for q in (10, 25, 75, 90):
        row[f'luma_ratio_p{q}'] = float(np.percentile(ratio, q))
    row['dark_share'] = float(np.mean([f['darkened'] for f in flags]))
    for key in ('crushed', 'cast'):
        row[f'{key}_in'] = float(col(f'{key}_in').mean())
        row[f'{key}_out'] = float(col(f'{key}_out').mean())
        row[f'{key}_share'] = float(np.mean([f[key] for f in flags]))
    row['contrast_ratio'] = float(np.median(col('contrast_ratio')))
    row['haze_in'] = float(col('haze_in').mean())
    row['haze_out'] = float(col('haze_out').mean())
    row['haze_reduction'] = 1.0 - row['haze_out'] / max(row['haze_in'], 1e-6)
    if all('niqe_in' in r for r in records):
        for key in ('niqe_in', 'niqe_out'):
            values = [v for v in col(key) if math.isfinite(v)]
            row[key] = float(np.mean(values)) if values else math.nan
    return row


#: The acceptance bar for real fog: (statistic, comparison, threshold, what it says).
#: ``'+in'`` thresholds are added to the row's input value of the same statistic.
REAL_FOG_BAR = (
    ('luma_ratio_median', '>=', 0.85, 'median luma ratio >= 0.85'),
    ('dark_share', '<=', 0.15, 'at most 15 % of photos darker than 0.8x'),
    ('crushed_out', '<=+in', 0.02, 'crushed-black fraction <= input + 0.02'),
    ('cast_out', '<=+in', 0.01, 'colour cast <= input + 0.01'),
    ('contrast_ratio', '>=', 1.15, 'local contrast >= 1.15x the input'),
    ('haze_reduction', '>=', 0.15, 'airlight-normalised haze lowered by >= 15 %'),
)


def check_bar(row: Dict[str, float], bar: Sequence[tuple] = REAL_FOG_BAR) -> List[dict]:
    """Compare a :func:`summarise` row with a bar.

    Args:
        row (dict): A summary row.
        bar (Sequence[tuple]): ``(key, op, threshold, text)`` with op ``'>='``,
            ``'<='`` or ``'<=+in'`` (threshold added to ``row[key.replace('_out',
            '_in')]``). Defaults to :data:`REAL_FOG_BAR`.

    Returns:
        list[dict]: Per line: ``text``, ``value``, ``limit``, ``passed``.
    """
    lines = []
    for key, op, threshold, text in bar:
        value = row[key]
        if op == '>=':
            limit, passed = threshold, value >= threshold
        elif op == '<=':
            limit, passed = threshold, value <= threshold
        elif op == '<=+in':
            limit = row[key.replace('_out', '_in')] + threshold
            passed = value <= limit
        else:
            raise ValueError(f'check_bar: unknown comparison {op!r} for {key}')
        lines.append(dict(text=text, key=key, value=value, limit=limit, passed=bool(passed)))
    return lines


def resize_longer(rgb: np.ndarray, side: Optional[int]) -> np.ndarray:
    """Shrink a picture (area interpolation) so that its longer side is at most ``side``.

    Args:
        rgb (np.ndarray): (H, W, 3).
        side (int, optional): The longest side; None or 0 keeps the picture.

    Returns:
        np.ndarray: The picture, same dtype.
    """
    h, w = rgb.shape[:2]
    if not side or max(h, w) <= side:
        return rgb
    scale = side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def measure_folder(files: Sequence, restorers: Dict[str, 'object'], side: Optional[int] = 640,
                   niqe: bool = True, keep_outputs: bool = False,
                   progress=None) -> Dict[str, dict]:
    """Run every restorer on every photo of a folder and measure what changed.

    Args:
        files (Sequence[Path]): The photos (decoded by content).
        restorers (dict[str, Callable]): Name to a callable mapping an (H, W, 3) uint8
            RGB picture to the restored one (e.g. :class:`~uniremoval_mm.apis.Restorer`).
        side (int, optional): Shrink each photo so its longer side is at most this
            before restoring. Defaults to 640.
        niqe (bool): Also measure NIQE of inputs and outputs (slow). Defaults to True.
        keep_outputs (bool): Keep the pictures (for a contact sheet). Defaults to False.
        progress (Callable[[str], None], optional): Told each photo's name.

    Returns:
        dict: ``records`` (restorer → list of :func:`compare` records, each with
        ``name``), ``inputs`` and ``outputs`` (restorer → list of pictures) when
        ``keep_outputs``.
    """
    from pathlib import Path

    from ..datasets.image_files import read_image
    from .metrics.no_reference import niqe_score
    records: Dict[str, List[dict]] = {name: [] for name in restorers}
    inputs: List[np.ndarray] = []
    outputs: Dict[str, List[np.ndarray]] = {name: [] for name in restorers}
    for path in files:
        path = Path(path)
        rgb = read_image(path).rgb
        if rgb.dtype != np.uint8:
            rgb = (rgb / 257.0).round().astype(np.uint8)
        rgb = resize_longer(rgb, side)
        stats_in = photo_stats(rgb)
        niqe_in = niqe_score(rgb.astype(np.float64)) if niqe else None
        if progress is not None:
            progress(path.name)
        for name, restore in restorers.items():
            out = restore(rgb)
            record = compare(stats_in, photo_stats(out))
            record['name'] = path.name
            if niqe:
                record['niqe_in'] = niqe_in
                record['niqe_out'] = niqe_score(out.astype(np.float64))
            records[name].append(record)
            if keep_outputs:
                outputs[name].append(out)
        if keep_outputs:
            inputs.append(rgb)
    result = dict(records=records)
    if keep_outputs:
        result.update(inputs=inputs, outputs=outputs)
    return result


def contact_sheets(names: Sequence[str], inputs: Sequence[np.ndarray],
                   outputs: Dict[str, Sequence[np.ndarray]], width: int = 320,
                   rows_per_sheet: int = 16) -> List[np.ndarray]:
    """Pages of ``input | output ...`` rows, one row per photo, labelled.

    Args:
        names (Sequence[str]): Photo names, printed on the input tile.
        inputs (Sequence[np.ndarray]): Input pictures, (H, W, 3) uint8 RGB.
        outputs (dict[str, Sequence[np.ndarray]]): Per restorer, its pictures (same
            order); each column is labelled with its name on the first row.
        width (int): Width of every tile. Defaults to 320.
        rows_per_sheet (int): Photos per page. Defaults to 16.

    Returns:
        list[np.ndarray]: The pages, uint8 RGB.
    """
    if not inputs:
        raise ValueError('contact_sheets: no photos')
    columns = [('input', list(inputs))] + [(k, list(v)) for k, v in outputs.items()]
    for label, pics in columns:
        if len(pics) != len(inputs):
            raise ValueError(f'contact_sheets: {label} has {len(pics)} pictures, the inputs '
                             f'{len(inputs)}')

    def tile(img: np.ndarray, text: str) -> np.ndarray:
        h, w = img.shape[:2]
        height = max(1, round(h * width / w))
        out = np.ascontiguousarray(cv2.resize(img, (width, height),
                                              interpolation=cv2.INTER_AREA))
        if text:
            cv2.rectangle(out, (0, 0), (width, 18), (0, 0, 0), -1)
            cv2.putText(out, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255),
                        1, cv2.LINE_AA)
        return out

    pages = []
    for start in range(0, len(inputs), rows_per_sheet):
        rows = []
        for i in range(start, min(start + rows_per_sheet, len(inputs))):
            tiles = [tile(pics[i], names[i] if label == 'input' else
                          (label if i == start else '')) for label, pics in columns]
            height = max(t.shape[0] for t in tiles)
            tiles = [np.pad(t, ((0, height - t.shape[0]), (0, 2), (0, 0))) for t in tiles]
            rows.append(np.concatenate(tiles, axis=1))
        pages.append(np.concatenate([np.pad(r, ((0, 2), (0, 0), (0, 0))) for r in rows], 0))
    return pages
