"""tools/misc/patch_mmcv_setup.py: the C++20 patch the install script applies."""
import os
import tarfile
from pathlib import Path

import pytest

from ..helpers import load_tool

CACHE = Path(os.environ.get(
    'UNIREMOVAL_CACHE',
    Path(os.environ.get('XDG_CACHE_HOME', Path.home() / '.cache')) / 'uniremoval_mm'))
SDIST = CACHE / 'sdist' / 'mmcv-2.1.0.tar.gz'


patch = load_tool('misc/patch_mmcv_setup.py')


@pytest.fixture(scope='module')
def real_setup_py() -> str:
    """The setup.py text of the real mmcv 2.1.0 sdist, as cached by tools/install.sh."""
    if not SDIST.is_file():
        pytest.skip(f'{SDIST} is not cached (tools/install.sh --tests caches it; '
                    'tests never download)')
    with tarfile.open(SDIST) as tar:
        return tar.extractfile('mmcv-2.1.0/setup.py').read().decode()


def test_real_setup_py_is_raised_to_cxx20(real_setup_py):
    assert '-std=c++17' in real_setup_py or '-std=c++14' in real_setup_py
    patched = patch.patch_setup_text(real_setup_py)
    for old in ('-std=c++11', '-std=c++14', '-std=c++17'):
        assert old not in patched
    assert patched.count('-std=c++20') >= real_setup_py.count('-std=c++17')
    compile(patched, 'setup.py', 'exec')  # still valid Python
    # only the flags changed: same text once the flags are normalised
    assert patched.replace('-std=c++20', '-std=X') == \
        patch._STD_FLAG.sub('-std=X', real_setup_py)


def test_patch_is_idempotent(real_setup_py):
    once = patch.patch_setup_text(real_setup_py)
    assert patch.patch_setup_text(once) == once


def test_patch_flags_in_made_text():
    text = "args = ['-std=c++14']\nnvcc = ['-std=c++17', '-O3']\nx = '-std=c++1z'\n"
    out = patch.patch_setup_text(text)
    assert out == "args = ['-std=c++20']\nnvcc = ['-std=c++20', '-O3']\nx = '-std=c++1z'\n"


def test_unrelated_text_is_refused():
    with pytest.raises(ValueError, match='not the mmcv setup.py'):
        patch.patch_setup_text('print("hello")\n')


def test_cli_patches_in_place_and_reports_bad_file(tmp_path, capsys):
    good = tmp_path / 'setup.py'
    good.write_text("flags = ['-std=c++17']\n")
    assert patch.main([str(good)]) == 0
    assert good.read_text() == "flags = ['-std=c++20']\n"
    bad = tmp_path / 'other.py'
    bad.write_text('x = 1\n')
    assert patch.main([str(bad)]) == 1
    assert 'other.py' in capsys.readouterr().err
    assert patch.main([str(tmp_path / 'missing.py')]) == 1
