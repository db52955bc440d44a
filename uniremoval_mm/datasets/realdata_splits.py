"""The split of DAWN's fog photos into a calibration pool and an acceptance set.

DAWN's fog photos are named ``<kind>-<number>.jpg`` (``foggy-003``, ``haze-121``,
``mist-081``). Photos whose number is divisible by 3 form the **calibration pool**: they
may be used unlabelled to train or tune a restorer (stage 2, hyper-parameters), never
with their boxes. The others form the **acceptance set**: never trained or tuned on,
only measured. This module is the one place that rule lives; configs name a split
(``UnpairedFolderDataset(split='dawn-calibration')``) and tools call
:func:`dawn_split_files`.
"""
import re
from pathlib import Path
from typing import Dict, List, Sequence, Union

#: The names of the two parts.
DAWN_SPLITS = ('calibration', 'acceptance')
_NUMBER = re.compile(r'^[A-Za-z_]+-(\d+)$')
_IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')


def dawn_number(name: Union[str, Path]) -> int:
    """The number in a DAWN photo's name.

    Args:
        name (str | Path): A file name or path such as ``haze-012.jpg``.

    Returns:
        int: The number (12 for ``haze-012.jpg``).

    Raises:
        ValueError: The name is not ``<kind>-<number>`` (the message names it).
    """
    stem = Path(name).stem
    match = _NUMBER.match(stem)
    if match is None:
        raise ValueError(f'{name}: not a DAWN photo name (expected <kind>-<number>, '
                         "e.g. 'haze-012.jpg')")
    return int(match.group(1))


def dawn_split_of(name: Union[str, Path]) -> str:
    """``'calibration'`` when the photo's number is divisible by 3, else ``'acceptance'``.

    Args:
        name (str | Path): A DAWN photo's file name or path.

    Returns:
        str: One of :data:`DAWN_SPLITS`.
    """
    return 'calibration' if dawn_number(name) % 3 == 0 else 'acceptance'


def split_names(names: Sequence[Union[str, Path]]) -> Dict[str, List[str]]:
    """Sort DAWN photo names into the two parts.

    Args:
        names (Sequence[str | Path]): File names or paths.

    Returns:
        dict[str, list[str]]: ``{'calibration': [...], 'acceptance': [...]}``, each in
        the given order.
    """
    parts: Dict[str, List[str]] = {split: [] for split in DAWN_SPLITS}
    for name in names:
        parts[dawn_split_of(name)].append(str(name))
    return parts


def calibration_fold(name: Union[str, Path]) -> str:
    """Within the calibration pool, ``'tune'`` for numbers divisible by 9 (36 photos: where
    trained variants are compared and settings chosen), else ``'fit'`` (72: trained on).

    Args:
        name (str | Path): A calibration-pool photo's name.

    Returns:
        str: ``'fit'`` or ``'tune'``.

    Raises:
        ValueError: The photo is in the acceptance set.
    """
    if dawn_split_of(name) != 'calibration':
        raise ValueError(f'{name}: an acceptance photo has no calibration fold')
    return 'tune' if dawn_number(name) % 9 == 0 else 'fit'


#: Every split name :func:`parse_split` takes, with the parts it keeps.
SPLIT_NAMES = ('dawn-calibration', 'dawn-acceptance', 'dawn-calibration-fit',
               'dawn-calibration-tune')


def parse_split(split: str) -> str:
    """The canonical part named by a split name (``'dawn-'`` may be left off).

    Args:
        split (str): One of :data:`SPLIT_NAMES`, or it without ``'dawn-'``.

    Returns:
        str: ``'calibration'``, ``'acceptance'``, ``'calibration-fit'`` or
        ``'calibration-tune'``.

    Raises:
        ValueError: Any other name.
    """
    part = split[len('dawn-'):] if split.startswith('dawn-') else split
    if f'dawn-{part}' not in SPLIT_NAMES:
        raise ValueError(f'split must be one of {list(SPLIT_NAMES)}, got {split!r}')
    return part


def in_split(name: Union[str, Path], split: str) -> bool:
    """Whether a DAWN photo belongs to a split.

    Args:
        name (str | Path): The photo's file name or path.
        split (str): A split name (see :func:`parse_split`).

    Returns:
        bool: True when it belongs.
    """
    part = parse_split(split)
    whole = dawn_split_of(name)
    if part in DAWN_SPLITS:
        return whole == part
    return whole == 'calibration' and f'calibration-{calibration_fold(name)}' == part


def dawn_split_files(image_dir: Union[str, Path], split: str) -> List[Path]:
    """The photos of one part in a folder of DAWN photos, sorted by name.

    Args:
        image_dir (str | Path): DAWN's ``images`` folder.
        split (str): A split name (see :func:`parse_split`).

    Returns:
        list[Path]: The part's image files.

    Raises:
        FileNotFoundError: The folder does not exist.
        ValueError: The split is unknown, or a file's name is not a DAWN name.
    """
    parse_split(split)
    root = Path(image_dir)
    if not root.is_dir():
        raise FileNotFoundError(f'{root}: no such folder of DAWN photos')
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES)
    return [p for p in files if in_split(p, split)]
