"""Finding image files by their content, not their extension."""
from pathlib import Path
from typing import List

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


def sniff_image_format(path: Path) -> str:
    """The image format of a file judged by its first bytes, or ``''`` if none.

    Args:
        path (Path): The file.

    Returns:
        str: ``'jpeg'``, ``'png'``, ``'bmp'``, ``'gif'``, ``'tiff'``, ``'webp'`` or ``''``.
    """
    try:
        with open(path, 'rb') as f:
            head = f.read(16)
    except OSError:
        return ''
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
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f'{folder}: not a directory')
    files = folder.rglob('*') if recursive else folder.iterdir()
    return sorted(p for p in files if p.is_file() and sniff_image_format(p))
