"""Finding, checking and decoding image files by their content, not their extension.

One decoder serves the restore tool, the datasets' loading transforms and the dataset
converters, so every component says the same thing about the same bad file
(``docs/robustness.md``).
"""
import io
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

# Leading bytes of the formats OpenCV decodes here.
_MAGIC = (
    (b'\xff\xd8\xff', 'jpeg'),
    (b'\x89PNG\r\n\x1a\n', 'png'),
    (b'BM', 'bmp'),
    (b'GIF87a', 'gif'),
    (b'GIF89a', 'gif'),
    (b'II*\x00', 'tiff'),
    (b'MM\x00*', 'tiff'),
)
#: File extensions that say "this is a picture" (a folder scan reports such files when
#: their content is not one).
IMAGE_EXTS = frozenset({'.jpg', '.jpeg', '.jpe', '.png', '.bmp', '.tif', '.tiff', '.webp',
                        '.gif'})
EXIF_ORIENTATION = 0x0112


class ImageFileError(ValueError):
    """A file that cannot be used as a picture; the message says why in a few words."""


@dataclass
class Picture:
    """A decoded image: RGB pixels, optional alpha, and how it was stored.

    Args:
        rgb (np.ndarray): (H, W, 3) uint8 or uint16, EXIF orientation applied.
        alpha (np.ndarray, optional): (H, W), same dtype, or None.
        gray (bool): The file was single-channel.
        orientation (int): The EXIF orientation (1-8) applied to the pixels. Defaults
            to 1 (none).
    """
    rgb: np.ndarray
    alpha: Optional[np.ndarray] = None
    gray: bool = False
    orientation: int = 1


def sniff_image_format(path: Path) -> str:
    """The image format of a file judged by its first bytes, or ``''`` if none.

    Args:
        path (Path): The file.

    Returns:
        str: ``'jpeg'``, ``'png'``, ``'bmp'``, ``'gif'``, ``'tiff'``, ``'webp'`` or ``''``
        (also for a file that cannot be read).
    """
    try:
        with Path(path).open('rb') as f:
            head = f.read(16)
    except OSError:
        return ''
    return _sniff(head)


def _sniff(head: bytes) -> str:
    if head[:4] == b'RIFF' and head[8:12] == b'WEBP':
        return 'webp'
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return ''


def list_images(folder: Path, recursive: bool = True) -> List[Path]:
    """Every file under ``folder`` whose content is an image, sorted.

    A ``.jpg`` that holds a PNG is kept, a ``.jpg`` that holds text is not.

    Args:
        folder (Path): The folder.
        recursive (bool): Look into sub-folders. Defaults to True.

    Returns:
        list[Path]: Image files, sorted by path.

    Raises:
        FileNotFoundError: If ``folder`` is not a directory.
    """
    return scan_images(folder, recursive)[0]


def scan_images(folder: Path, recursive: bool = True) -> Tuple[List[Path], List[str]]:
    """The image files under ``folder`` and, one line each, the files that should be.

    Files are judged by content. A file named like a picture (``IMAGE_EXTS``) whose
    content is not one (empty, text, unreadable, a dangling link) is a problem:
    ``'path: empty file (0 bytes)'``. Other files (``README.txt``) and hidden files are
    ignored silently.

    Args:
        folder (Path): The folder.
        recursive (bool): Look into sub-folders. Defaults to True.

    Returns:
        tuple[list[Path], list[str]]: Image files sorted by path, and problems.

    Raises:
        FileNotFoundError: If ``folder`` is not a directory.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f'{folder}: not a directory')
    images, problems = [], []
    for path in sorted(folder.rglob('*') if recursive else folder.iterdir()):
        if path.name.startswith('.') or path.is_dir():
            continue
        named = path.suffix.lower() in IMAGE_EXTS
        try:
            with path.open('rb') as f:
                head = f.read(16)
        except OSError as e:
            if named:
                problems.append(f'{path}: cannot read: {e.strerror or e}')
            continue
        if _sniff(head):
            images.append(path)
        elif named:
            problems.append(f'{path}: ' + ('empty file (0 bytes)' if not head else
                                           'not an image (unknown content)'))
    return images, problems


def read_bytes(path: Path) -> bytes:
    """A file's content; every problem becomes an :class:`ImageFileError`.

    Args:
        path (Path): The file.

    Returns:
        bytes: The content.

    Raises:
        ImageFileError: ``cannot read: <reason>``.
    """
    try:
        return Path(path).read_bytes()
    except OSError as e:
        raise ImageFileError(f'cannot read: {e.strerror or e}') from e


def _orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an (H, W[, C]) array, as PIL's exif_transpose."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: a.swapaxes(0, 1)[:, ::-1],
        7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],
        8: lambda a: a.swapaxes(0, 1)[::-1],
    }
    op = ops.get(orientation)
    return np.ascontiguousarray(op(arr)) if op else arr


def _fmt(data: bytes) -> str:
    return {'jpeg': 'JPEG', 'png': 'PNG', 'gif': 'GIF', 'bmp': 'BMP', 'tiff': 'TIFF',
            'webp': 'WebP'}.get(_sniff(data[:16]), '')


def _open(stream, head: bytes, max_pixels: Optional[int]):
    """Pillow's lazy image (header read, pixels not yet decoded), checked.

    Args:
        stream: A binary file object at its start.
        head (bytes): The file's first 16 bytes (for the messages).
        max_pixels (int, optional): Refuse images with more pixels.
    """
    from PIL import Image, UnidentifiedImageError
    if not head:
        raise ImageFileError('empty file (0 bytes)')
    fmt = _fmt(head)
    try:
        img = Image.open(stream)
    except UnidentifiedImageError:
        if fmt:  # the signature of a format, then nothing Pillow can parse
            raise ImageFileError(f'corrupt {fmt} image (unreadable header)')
        raise ImageFileError('not an image (unknown content; decoded by content, not name)')
    except Image.DecompressionBombError as e:
        raise ImageFileError(f'refused: {e}')
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageFileError(f'corrupt or truncated {fmt} image ({e})')
    w, h = img.size
    if w < 1 or h < 1:
        raise ImageFileError(f'corrupt {fmt} image (size {w}x{h})')
    if max_pixels is not None and w * h > max_pixels:
        raise ImageFileError(f'too large: {w}x{h} = {w * h / 1e6:.1f} MP is more than '
                             f'max_pixels={max_pixels}')
    return img


def _orientation(img) -> int:
    try:
        return int(img.getexif().get(EXIF_ORIENTATION, 1) or 1)
    except Exception:  # a broken EXIF block is no reason to refuse the pixels
        return 1


def image_header(path: Path, max_pixels: Optional[int] = None) -> Tuple[int, int, int]:
    """Check a file's header (cheap: no pixel is decoded); return its stored size.

    Catches empty, unreadable, non-image and header-corrupt files and, with
    ``max_pixels``, oversized ones. A file whose pixel data is truncated passes; only
    decoding (:func:`read_image`) finds that.

    Args:
        path (Path): The file.
        max_pixels (int, optional): Refuse images with more pixels. Defaults to None
            (only Pillow's decompression-bomb limit).

    Returns:
        tuple[int, int, int]: (height, width) of the stored pixels and the EXIF
        orientation (1-8; 5-8 swap height and width when shown).

    Raises:
        ImageFileError: Naming the problem in a few words.
    """
    try:
        with Path(path).open('rb') as f:
            head = f.read(16)
            f.seek(0)
            img = _open(f, head, max_pixels)
            orientation = _orientation(img)
    except OSError as e:
        raise ImageFileError(f'cannot read: {e.strerror or e}') from e
    w, h = img.size
    return h, w, orientation


def probe_image(path: Path, max_pixels: Optional[int] = None) -> Tuple[int, int]:
    """Check a file's header (see :func:`image_header`) and return its shown size.

    Args:
        path (Path): The file.
        max_pixels (int, optional): Refuse images with more pixels. Defaults to None.

    Returns:
        tuple[int, int]: (height, width) as shown, i.e. after the EXIF orientation.

    Raises:
        ImageFileError: Naming the problem in a few words.
    """
    h, w, orientation = image_header(path, max_pixels)
    return (w, h) if orientation in (5, 6, 7, 8) else (h, w)


def orient_box(box: Sequence[float], width: int, height: int,
               orientation: int) -> List[float]:
    """Move an (x1, y1, x2, y2) box drawn on stored pixels onto the image as shown.

    Args:
        box (Sequence[float]): The box on the stored pixels (pixel edges).
        width (int): Stored width.
        height (int): Stored height.
        orientation (int): EXIF orientation, 1-8 (as :func:`decode_image` applies it).

    Returns:
        list[float]: The box on the shown image.
    """
    w, h = float(width), float(height)
    moves = {
        1: lambda x, y: (x, y),
        2: lambda x, y: (w - x, y),
        3: lambda x, y: (w - x, h - y),
        4: lambda x, y: (x, h - y),
        5: lambda x, y: (y, x),
        6: lambda x, y: (h - y, x),
        7: lambda x, y: (h - y, w - x),
        8: lambda x, y: (y, w - x),
    }
    move = moves.get(orientation, moves[1])
    (ax, ay), (bx, by) = move(box[0], box[1]), move(box[2], box[3])
    return [min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)]


def decode_image(data: bytes, max_pixels: Optional[int] = None) -> Picture:
    """Decode an image file's bytes by content, whatever its name says.

    Pillow decodes (and, unlike OpenCV, refuses truncated files); 16-bit PNG/TIFF
    colour, which Pillow reduces to 8 bits, is decoded by OpenCV. Palettes become RGB
    (RGBA with transparency), CMYK becomes RGB, 1-bit becomes 8-bit grey, and the EXIF
    orientation is applied to the pixels.

    Args:
        data (bytes): The file's content.
        max_pixels (int, optional): Refuse, before decoding, images with more pixels.
            Defaults to None (only Pillow's decompression-bomb limit).

    Returns:
        Picture: The pixels.

    Raises:
        ImageFileError: If the bytes are empty, not an image, corrupt, truncated or
            too large.
    """
    img = _open(io.BytesIO(data), data[:16], max_pixels)
    try:
        img.load()
    except (OSError, SyntaxError, ValueError) as e:
        raise ImageFileError(f'corrupt or truncated {_fmt(data)} image ({e})')
    orientation = _orientation(img)
    mode = img.mode
    arr = None
    if img.format in ('PNG', 'TIFF') and mode not in ('1', 'L', 'P', 'LA', 'PA'):
        wide = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
        if wide is not None and wide.dtype == np.uint16:
            if wide.ndim == 3:  # OpenCV's BGR(A) to RGB(A)
                wide = wide[..., [2, 1, 0, 3][:wide.shape[2]]]
            arr = wide
    if arr is None:
        if mode == 'P':
            mode = 'RGBA' if 'transparency' in img.info else 'RGB'
        elif mode == 'PA':
            mode = 'RGBA'
        elif mode in ('1', 'L'):
            mode = 'L'
        elif mode.startswith('I'):
            mode = 'I;16'
        elif mode not in ('LA', 'RGB', 'RGBA'):
            if mode == 'F':
                raise ImageFileError('unsupported pixels: 32-bit float')
            mode = 'RGBA' if 'A' in mode else 'RGB'  # CMYK, YCbCr, LAB, HSV, RGBX ...
        if mode == 'I;16' and img.mode != 'I;16':
            arr = np.clip(np.asarray(img), 0, 65535).astype(np.uint16)
        else:
            arr = np.asarray(img if img.mode == mode else img.convert(mode))
    arr = _orient(arr, orientation)
    if arr.ndim == 2:
        arr = arr[..., None]
    colour, alpha = (arr[..., :-1], arr[..., -1]) if arr.shape[2] in (2, 4) else (arr, None)
    gray = colour.shape[2] == 1
    rgb = np.repeat(colour, 3, axis=2) if gray else colour
    return Picture(np.ascontiguousarray(rgb), alpha, gray, orientation)


def read_image(path: Path, max_pixels: Optional[int] = None) -> Picture:
    """Read and decode an image file (see :func:`decode_image`).

    Args:
        path (Path): The file.
        max_pixels (int, optional): Refuse images with more pixels. Defaults to None.

    Returns:
        Picture: The pixels.

    Raises:
        ImageFileError: ``cannot read: ...`` or a decoding problem.
    """
    return decode_image(read_bytes(path), max_pixels)


def to_rgb8(picture: Picture) -> np.ndarray:
    """The picture as (H, W, 3) uint8 RGB: alpha dropped, 16 bits rounded to 8.

    Args:
        picture (Picture): From :func:`decode_image`.

    Returns:
        np.ndarray: (H, W, 3) uint8, C-contiguous and writable (in-place transforms such
        as mmcv's ``imflip_`` need that; Pillow's arrays are read-only).
    """
    rgb = picture.rgb
    if rgb.dtype == np.uint16:
        rgb = (rgb / 257).round().astype(np.uint8)
    rgb = np.ascontiguousarray(rgb)
    return rgb if rgb.flags.writeable else rgb.copy()
