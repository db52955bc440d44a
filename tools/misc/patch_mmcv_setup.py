#!/usr/bin/env python
"""Patch mmcv 2.1.0's ``setup.py`` so that its ops compile against torch >= 2.14.

torch 2.14's headers stop with ``#error C++20 or later compatible compiler is
required to use ATen``; mmcv 2.1.0 hard-codes ``-std=c++14``/``-std=c++17`` in the
compiler flags of its extensions. This raises every such flag to ``-std=c++20``.

Used by ``tools/install.sh``; importable for tests (:func:`patch_setup_text`).
Usage: ``python tools/misc/patch_mmcv_setup.py path/to/setup.py``.
"""
import argparse
import re
import sys
from pathlib import Path

CXX_STD = 'c++20'
_STD_FLAG = re.compile(r'-std=c\+\+(11|14|17)\b')


def patch_setup_text(text: str, std: str = CXX_STD) -> str:
    """Return ``text`` with every ``-std=c++11/14/17`` flag raised to ``std``.

    Args:
        text (str): Content of mmcv's ``setup.py``.
        std (str): The C++ standard to use. Defaults to ``'c++20'``.

    Returns:
        str: The patched text. Idempotent: patching patched text changes nothing.

    Raises:
        ValueError: If the text holds neither an old flag nor the target flag,
            i.e. it is not the setup.py this patch was written for.
    """
    patched, count = _STD_FLAG.subn(f'-std={std}', text)
    if count == 0 and f'-std={std}' not in text:
        raise ValueError(
            'no "-std=c++NN" compiler flag found: this is not the mmcv setup.py '
            'the patch was written for (mmcv 2.1.0)')
    return patched


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('setup_py', type=Path, help="mmcv's setup.py, patched in place")
    args = parser.parse_args(argv)
    try:
        text = args.setup_py.read_text()
        new = patch_setup_text(text)
    except (OSError, ValueError) as e:
        print(f'patch_mmcv_setup: {args.setup_py}: {e}', file=sys.stderr)
        return 1
    args.setup_py.write_text(new)
    n = len(_STD_FLAG.findall(text))
    print(f'      patched {args.setup_py.name}: {n} flag(s) raised to -std={CXX_STD}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
