"""What the restoration datasets check about their files when they are built."""
import logging
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from mmengine.logging import print_log

from .image_files import ImageFileError, probe_image, read_image

#: ``check_files`` values: read each header (cheap), decode each file, or neither.
CHECK_MODES = ('header', 'decode', 'none')


def check_mode(owner: str, check_files: str, max_pixels: Optional[int]) -> None:
    """Validate a dataset's ``check_files`` and ``max_pixels`` arguments.

    Args:
        owner (str): The dataset's class name (for the message).
        check_files (str): One of :data:`CHECK_MODES`.
        max_pixels (int, optional): Largest accepted image, in pixels.

    Raises:
        ValueError: Naming the argument.
    """
    if check_files not in CHECK_MODES:
        raise ValueError(f'{owner}.check_files must be one of {CHECK_MODES}, got '
                         f'{check_files!r}')
    if max_pixels is not None and max_pixels < 1:
        raise ValueError(f'{owner}.max_pixels must be >= 1 or None, got {max_pixels}')


def pipeline_min_size(owner: str, pipeline) -> Optional[Tuple[int, int]]:
    """The smallest (H, W) an image needs for the pipeline's crops, if it crops.

    Every transform with a ``crop_size`` (mmagic's ``Crop``) that does not pad small
    images (``is_pad_zeros``) counts: mmagic crops a smaller image to its own size, and
    the batch then fails to stack, mid-training.

    Args:
        owner (str): The dataset's class name (for the message).
        pipeline: The dataset's ``Compose``.

    Returns:
        tuple[int, int] | None: (H, W), or None if nothing crops.

    Raises:
        ValueError: If a crop size is not two positive ints (naming the field).
    """
    need = None
    for t in getattr(pipeline, 'transforms', []):
        size = getattr(t, 'crop_size', None)
        if size is None:
            continue
        name = type(t).__name__
        size = tuple(size) if isinstance(size, (list, tuple)) else (size, size)
        if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
            raise ValueError(f'{owner}: pipeline {name}.crop_size={getattr(t, "crop_size")} '
                             'must be two positive ints (h, w)')
        if getattr(t, 'is_pad_zeros', False):
            continue
        need = size if need is None else (max(need[0], size[0]), max(need[1], size[1]))
    return need


def file_problem(path: Path, check_files: str, max_pixels: Optional[int],
                 min_size: Optional[Tuple[int, int]]) -> Optional[str]:
    """What is wrong with one listed image, in a few words, or None.

    Args:
        path (Path): The image.
        check_files (str): ``'header'``, ``'decode'`` or ``'none'``.
        max_pixels (int, optional): Largest accepted image, in pixels.
        min_size (tuple[int, int], optional): Smallest accepted (H, W).

    Returns:
        str | None: The problem, or None.
    """
    if check_files == 'none':
        return None
    try:
        if check_files == 'decode':
            h, w = read_image(path, max_pixels).rgb.shape[:2]
        else:
            h, w = probe_image(path, max_pixels)
    except ImageFileError as e:
        return str(e)
    if min_size is not None and (h < min_size[0] or w < min_size[1]):
        return (f'{w}x{h} is smaller than the {min_size[1]}x{min_size[0]} (WxH) crop of the '
                'pipeline')
    return None


def report_skipped(owner: str, skipped: Sequence[str], total: int) -> None:
    """Log each skipped file as one warning line, then a count.

    Args:
        owner (str): The dataset's class name.
        skipped (Sequence[str]): ``path: problem`` lines.
        total (int): Files considered.
    """
    for line in skipped:
        print_log(f'{owner}: skipped {line}', logger='current', level=logging.WARNING)
    if skipped:
        print_log(f'{owner}: {len(skipped)} of {total} files skipped (listed above and in '
                  'the dataset\'s `skipped`)', logger='current', level=logging.WARNING)


def no_files_error(message: str, skipped: Sequence[str]) -> FileNotFoundError:
    """``FileNotFoundError(message)``, plus how many files were skipped and the first.

    Args:
        message (str): What was not found, and where.
        skipped (Sequence[str]): ``path: problem`` lines.

    Returns:
        FileNotFoundError: The error to raise.
    """
    return FileNotFoundError(
        message + (f'; {len(skipped)} skipped, e.g. {skipped[0]}' if skipped else ''))


def checked_images(owner: str, folder: Path, recursive: bool, check_files: str,
                   max_pixels: Optional[int], min_size: Optional[Tuple[int, int]],
                   strict: bool, limit: Optional[int] = None) -> Tuple[List[Path], List[str]]:
    """The usable images of a folder, and ``path: problem`` for the others.

    Args:
        owner (str): The dataset's class name.
        folder (Path): The folder.
        recursive (bool): Look into sub-folders.
        check_files (str): ``'header'``, ``'decode'`` or ``'none'``.
        max_pixels (int, optional): Largest accepted image, in pixels.
        min_size (tuple[int, int], optional): Smallest accepted (H, W).
        strict (bool): Raise on the first problem instead of returning it.
        limit (int, optional): Stop after this many usable images. Defaults to None.

    Returns:
        tuple[list[Path], list[str]]: Usable images (sorted) and problems.

    Raises:
        FileNotFoundError: If ``folder`` is not a directory.
        ImageFileError: With ``strict``, ``path: problem`` for the first bad file.
    """
    from .image_files import scan_images
    images, problems = scan_images(folder, recursive)
    good = []
    for path in images:
        if limit is not None and len(good) >= limit:
            break
        problem = file_problem(path, check_files, max_pixels, min_size)
        if problem is None:
            good.append(path)
        else:
            problems.append(f'{path}: {problem}')
    if strict and problems:
        raise ImageFileError(f'{sorted(problems)[0]} ({owner} with strict=True; fix or remove '
                             'the file, or set strict=False to skip such files)')
    return good, sorted(problems)
