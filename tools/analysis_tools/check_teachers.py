#!/usr/bin/env python
"""Check the teacher ports against reference numbers, with the official weights.

Runs AOD-Net on RESIDE SOTS-outdoor pairs, PReNet on Rain100L pairs (Y channel), DnCNN-B
on grayscale photos with sigma=25 Gaussian noise, and the dark channel prior on the SOTS
pairs, all from ``../shared/realdata``. Prints one row per image: input PSNR, output PSNR
and, where one is known, the reference output PSNR measured with an independent
implementation. PSNR is mmagic's functional ``psnr`` on uint8 images (outputs clamped
to [0, 1], then rounded), in RGB, in Y (mmagic's: BT.601 studio swing, as MATLAB's
rgb2ycbcr) or in full-range luma (0.299 R + 0.587 G + 0.114 B), as each row says.

Usage: python tools/analysis_tools/check_teachers.py [--realdata ../shared/realdata]
"""
import argparse
import sys
import warnings
from pathlib import Path
from typing import Dict, List

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled

# Output PSNR of the official weights, measured with an independent implementation; a
# port that misses one by more than ~0.1 dB is wrong.
# The PReNet references use full-range luma (0.299 R + 0.587 G + 0.114 B); mmagic's Y is
# BT.601 studio swing (16-235, as MATLAB's rgb2ycbcr), which reads 20*log10(255/219) =
# 1.32 dB higher on the same images. Both are printed.
REFERENCE = {
    ('AODNet', '0001_0.8_0.2.jpg', 'RGB'): 17.61,
    ('AODNet', '0002_0.8_0.08.jpg', 'RGB'): 16.63,
    ('PReNet', '1.png', 'Y full-range'): 36.59,
    ('PReNet', '2.png', 'Y full-range'): 36.48,
}


def read_rgb(path: Path) -> np.ndarray:
    """Decode an image by content (not extension) to RGB uint8."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'{path}: cannot be decoded as an image')
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb).permute(2, 0, 1).float().div(255).unsqueeze(0)


def to_uint8(t: torch.Tensor) -> np.ndarray:
    arr = t.squeeze(0).clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()
    return arr


def _psnr(a: np.ndarray, b: np.ndarray, space: str = 'RGB') -> float:
    """PSNR of two uint8 RGB (or grey) images in ``space``: RGB, Y or Y full-range."""
    from mmagic.evaluation.metrics.psnr import psnr
    if space == 'Y full-range':
        luma = np.array([0.299, 0.587, 0.114], np.float64)
        a, b = a.astype(np.float64) @ luma, b.astype(np.float64) @ luma
        return float(psnr(a[..., None], b[..., None]))
    return float(psnr(a, b, convert_to='Y' if space == 'Y' else None, channel_order='rgb'))


def _teacher(model: dict, checkpoint=None):
    from uniremoval_mm.models import FrozenTeacher
    return FrozenTeacher(model, checkpoint)


def check_dehazers(realdata: Path) -> List[Dict]:
    """AOD-Net (official weights) and the dark channel prior on SOTS-outdoor pairs."""
    pairs = realdata / 'pairs' / 'sots_outdoor'
    aod = _teacher(dict(type='AODNet'), str(realdata / 'weights/aodnet/aodnet_dehazer.pth'))
    dcp = _teacher(dict(type='DarkChannelPrior'))
    rows = []
    for hazy_path in sorted((pairs / 'hazy').iterdir()):
        clear = read_rgb(pairs / 'clear' / (hazy_path.name.split('_')[0] + '.png'))
        hazy = read_rgb(hazy_path)
        for name, net in (('AODNet', aod), ('DarkChannelPrior', dcp)):
            out = to_uint8(net(to_tensor(hazy)))
            rows.append(dict(teacher=name, image=hazy_path.name, space='RGB',
                             input=_psnr(hazy, clear), output=_psnr(out, clear),
                             reference=REFERENCE.get((name, hazy_path.name, 'RGB'))))
    return rows


def check_prenet(realdata: Path) -> List[Dict]:
    """PReNet (official Rain100L weights, 6 stages) on Rain100L pairs, Y channel."""
    pairs = realdata / 'pairs' / 'rain100l'
    net = _teacher(dict(type='PReNet', stages=6),
                   str(realdata / 'weights/prenet/prenet6_rain100l.pth'))
    rows = []
    for rainy_path in sorted((pairs / 'rainy').iterdir()):
        clean = read_rgb(pairs / 'clean' / rainy_path.name)
        rainy = read_rgb(rainy_path)
        out = to_uint8(net(to_tensor(rainy)))
        for space in ('Y', 'Y full-range'):
            rows.append(dict(teacher='PReNet', image=rainy_path.name, space=space,
                             input=_psnr(rainy, clean, space), output=_psnr(out, clean, space),
                             reference=REFERENCE.get(('PReNet', rainy_path.name, space))))
    return rows


def check_dncnn(realdata: Path, sigma: float = 25.0, seed: int = 0) -> List[Dict]:
    """DnCNN-B (official blind grayscale weights) on grey photos plus Gaussian noise."""
    net = _teacher(dict(type='DnCNN', depth=20, image_channels=1),
                   str(realdata / 'weights/dncnn/dncnn_blind_gray.pth'))
    rng = np.random.default_rng(seed)
    rows = []
    for path in sorted((realdata / 'unpaired' / 'clean').iterdir()):
        grey = cv2.cvtColor(read_rgb(path), cv2.COLOR_RGB2GRAY)
        clean = torch.from_numpy(grey).float().div(255)[None, None]
        noisy = clean + torch.from_numpy(rng.normal(0, sigma / 255, grey.shape)).float()
        out = net(noisy)
        as_u8 = lambda t: t[0].clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).numpy()  # noqa
        rows.append(dict(teacher='DnCNN', image=path.name, space=f'grey, sigma={sigma:g}',
                         input=_psnr(as_u8(noisy), grey[..., None]),
                         output=_psnr(as_u8(out), grey[..., None]), reference=None))
    return rows


def run_all(realdata: Path) -> List[Dict]:
    """Every check, in one list of rows."""
    with torch.no_grad():
        return check_dehazers(realdata) + check_prenet(realdata) + check_dncnn(realdata)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[2].parent / 'shared' / 'realdata'
    parser.add_argument('--realdata', type=Path, default=default)
    args = parser.parse_args(argv)
    if not (args.realdata / 'weights').is_dir():
        print(f'check_teachers: {args.realdata} has no weights/ folder', file=sys.stderr)
        return 1
    warnings.filterwarnings('ignore')
    print('| teacher | image | PSNR on | input dB | output dB | reference dB | diff |')
    print('|---|---|---|---|---|---|---|')
    for r in run_all(args.realdata):
        ref = r['reference']
        diff = f"{r['output'] - ref:+.2f}" if ref is not None else ''
        print(f"| {r['teacher']} | {r['image']} | {r['space']} | {r['input']:.2f} | "
              f"{r['output']:.2f} | {ref if ref is not None else ''} | {diff} |")
    return 0


if __name__ == '__main__':
    sys.exit(main())
