"""The bad-input corpus of issue 9, made by the tests themselves (nothing is downloaded).

:func:`write_corpus` writes one file per kind into a folder and returns what each kind
is and what a component must say about it; the restore tool, the datasets, their loading
transforms and the converters are all run on it (``docs/robustness.md`` has the table).
Kinds that need more than a file have their own helpers: :func:`make_unreadable` (a
file this process cannot read, also as root), :func:`write_huge_jpeg` (8000x6000, made
once per session by the ``huge_jpeg`` fixture in ``conftest.py``) and the empty folder
(``tmp_path`` itself).
"""
import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import cv2
import numpy as np
from PIL import Image

HUGE_SHAPE = (6000, 8000)  # (H, W)


@dataclass(frozen=True)
class Kind:
    """One corpus entry.

    Args:
        name (str): File name in the corpus folder.
        shape (tuple[int, int], optional): (H, W) as shown (EXIF applied) for a file
            every component must accept; None for a bad file.
        problem (str): For a bad file: words its one-line report must contain.
        header_ok (bool): A bad file whose header is fine (only decoding finds it).
    """
    name: str
    shape: Optional[Tuple[int, int]] = None
    problem: str = ''
    header_ok: bool = False

    @property
    def valid(self) -> bool:
        return self.shape is not None


def rgb(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth, asymmetric colour picture (JPEG-friendly), (H, W, 3) uint8 RGB."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.stack([xx * 255 / max(w - 1, 1), yy * 255 / max(h - 1, 1),
                    np.full((h, w), 60.0 + 40 * seed)], -1)
    return img.astype(np.uint8)


def pil_bytes(img: Image.Image, fmt: str, **kwargs) -> bytes:
    """``img`` encoded by Pillow as ``fmt``."""
    buf = io.BytesIO()
    img.save(buf, fmt, **kwargs)
    return buf.getvalue()


def truncated_jpeg() -> bytes:
    """The first half of a 120x160 noise JPEG: the header is intact, the pixels are cut
    (OpenCV decodes such a file without an error, filling the rest with grey)."""
    noise = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    data = pil_bytes(Image.fromarray(noise), 'JPEG')
    return data[:len(data) // 2]


def truncated_png() -> bytes:
    """The first half of a 64x64 noise PNG (cut inside its pixel data)."""
    noise = np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)
    data = pil_bytes(Image.fromarray(noise), 'PNG')
    return data[:len(data) // 2]


def exif_rotated_jpeg(stored: np.ndarray, orientation: int = 6) -> bytes:
    """A JPEG of ``stored`` (RGB) whose EXIF orientation says: show it rotated."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return pil_bytes(Image.fromarray(stored), 'JPEG', exif=exif, quality=98)


def bomb_png(width: int = 30000, height: int = 30000) -> bytes:
    """A valid PNG header claiming ``width`` x ``height`` over a few bytes of data."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack('>I', len(body)) + kind + body
                + struct.pack('>I', zlib.crc32(kind + body) & 0xffffffff))

    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b'\x00' * (1 + 3 * width))  # one row of the claimed width
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat)
            + chunk(b'IEND', b''))


def write_corpus(folder: Path) -> Dict[str, Kind]:
    """Write every file kind of the corpus into ``folder`` (made if missing).

    Args:
        folder (Path): Where to write.

    Returns:
        dict[str, Kind]: Kind by file name.
    """
    folder.mkdir(parents=True, exist_ok=True)
    kinds = []

    def put(kind: Kind, data: bytes) -> None:
        (folder / kind.name).write_bytes(data)
        kinds.append(kind)

    def put_cv(kind: Kind, img: np.ndarray) -> None:
        assert cv2.imwrite(str(folder / kind.name), img)
        kinds.append(kind)

    base = rgb(40, 60)
    # ------------------------------------------------------------------ good files
    put(Kind('plain.jpg', (40, 60)), pil_bytes(Image.fromarray(base), 'JPEG', quality=95))
    put(Kind('jpeg_named.png', (40, 60)), pil_bytes(Image.fromarray(base), 'JPEG'))
    put(Kind('bmp_named.jpg', (40, 60)), pil_bytes(Image.fromarray(base), 'BMP'))
    put(Kind('photo.webp', (40, 60)), pil_bytes(Image.fromarray(base), 'WEBP', lossless=True))
    put_cv(Kind('gray.png', (25, 35)), rgb(25, 35)[..., 0])
    put_cv(Kind('gray16.png', (25, 35)), rgb(25, 35)[..., 0].astype(np.uint16) * 257)
    put_cv(Kind('rgba.png', (25, 35)),
           np.dstack([rgb(25, 35), np.arange(25 * 35, dtype=np.uint8).reshape(25, 35)]))
    put(Kind('gray_alpha.png', (25, 35)), pil_bytes(Image.fromarray(rgb(25, 35)).convert('LA'),
                                                    'PNG'))
    palette = Image.fromarray(rgb(30, 20)).convert('P')
    put(Kind('palette.png', (30, 20)), pil_bytes(palette, 'PNG'))
    put(Kind('palette_alpha.png', (30, 20)), pil_bytes(palette, 'PNG', transparency=0))
    put(Kind('one_bit.png', (30, 20)), pil_bytes(palette.convert('1'), 'PNG'))
    put_cv(Kind('rgb16.png', (20, 30)),  # v * 257 + 3: 16-bit values that are not 8-bit ones
           np.minimum(rgb(20, 30).astype(np.uint32) * 257 + 3, 65535).astype(np.uint16))
    put(Kind('cmyk.jpg', (40, 60)), pil_bytes(Image.fromarray(base).convert('CMYK'), 'JPEG'))
    put(Kind('exif_rotated.jpg', (60, 40)), exif_rotated_jpeg(base))
    put_cv(Kind('tiny_1x1.png', (1, 1)), rgb(1, 1))
    put_cv(Kind('thin_3x1000.png', (3, 1000)), rgb(3, 1000))
    # ------------------------------------------------------------------- bad files
    put(Kind('empty.jpg', problem='empty file (0 bytes)'), b'')
    put(Kind('truncated.jpg', problem='corrupt or truncated JPEG', header_ok=True),
        truncated_jpeg())
    put(Kind('truncated.png', problem='corrupt or truncated PNG', header_ok=True),
        truncated_png())
    put(Kind('text.jpg', problem='not an image'), b'this is text, not a picture\n' * 4)
    put(Kind('bad_header.png', problem='corrupt PNG image (unreadable header)'),
        b'\x89PNG\r\n\x1a\n' + os.urandom(64))
    put(Kind('bomb.png', problem='refused: Image size (900000000 pixels)'), bomb_png())
    (folder / 'dangling.jpg').symlink_to(folder / 'nowhere.jpg')
    kinds.append(Kind('dangling.jpg', problem='cannot read: No such file or directory'))
    return {k.name: k for k in kinds}


def write_huge_jpeg(path: Path) -> Path:
    """An 8000x6000 JPEG (48 MP, about 0.3 MB: a smooth picture), made once per session."""
    h, w = HUGE_SHAPE
    img = np.empty((h, w, 3), np.uint8)
    img[...] = np.linspace(0, 255, w, dtype=np.float32).astype(np.uint8)[None, :, None]
    img[..., 2] = 90
    assert cv2.imwrite(str(path), img, [int(cv2.IMWRITE_JPEG_QUALITY), 80])
    return path


def make_unreadable(path: Path, monkeypatch) -> Path:
    """Make ``path`` unreadable to this process: mode 000, and as root (who reads any
    file) ``open`` and ``Path.open`` refusing it the way the OS would.

    Args:
        path (Path): An existing file.
        monkeypatch (pytest.MonkeyPatch): The test's monkeypatch.

    Returns:
        Path: ``path``.
    """
    path.chmod(0)
    if os.geteuid() == 0:
        import builtins
        real_path_open, real_open = Path.open, builtins.open
        locked = str(path.resolve())

        def refuse(file) -> None:
            if isinstance(file, (str, Path)) and os.path.realpath(file) == locked:
                raise PermissionError(13, 'Permission denied', str(file))

        def path_open(self, *args, **kwargs):
            refuse(self)
            return real_path_open(self, *args, **kwargs)

        def builtin_open(file, *args, **kwargs):
            refuse(file)
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(Path, 'open', path_open)
        monkeypatch.setattr(builtins, 'open', builtin_open)
    return path
