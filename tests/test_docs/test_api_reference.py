"""The HTML API reference (``make docs``) builds from the docstrings without a warning and
holds every public name of the package."""
import importlib
import os
import pkgutil
import re
import subprocess
import sys
import types

import pytest

from ..conftest import REPO_ROOT


@pytest.fixture(scope='module')
def html(tmp_path_factory):
    """Build the reference once, as ``make docs`` does (``-W``: a warning fails it)."""
    out = tmp_path_factory.mktemp('api_html')
    env = dict(os.environ, OMP_NUM_THREADS='1', NO_ALBUMENTATIONS_UPDATE='1')
    run = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-W', '--keep-going',
                          '-q', str(REPO_ROOT / 'docs' / 'api'), str(out)], cwd=REPO_ROOT,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-4000:]
    assert 'WARNING' not in run.stderr, run.stderr[-4000:]
    return out


def test_the_reference_builds_without_warnings(html):
    assert (html / 'index.html').is_file()
    index = (html / 'index.html').read_text(encoding='utf-8')
    for page in ('apis', 'models', 'datasets', 'engine', 'evaluation', 'utils', 'compat'):
        assert f'href="{page}.html"' in index
    # napoleon turned the Google-style sections into fields
    apis = (html / 'apis.html').read_text(encoding='utf-8')
    assert 'id="uniremoval_mm.apis.init_restorer"' in apis
    assert 'Parameters' in apis and 'Raises' in apis


def test_every_public_name_is_in_the_reference(html):
    import uniremoval_mm
    ids = set()
    for page in html.glob('*.html'):
        ids |= set(re.findall(r'id="([^"]+)"', page.read_text(encoding='utf-8')))
    missing = []
    for info in pkgutil.walk_packages(uniremoval_mm.__path__, 'uniremoval_mm.'):
        module = importlib.import_module(info.name)
        for name in getattr(module, '__all__', ()):
            obj = getattr(module, name)
            if isinstance(obj, types.ModuleType):
                found = f'module-{obj.__name__}' in ids
            else:
                found = any(i == name or i.endswith('.' + name) for i in ids)
            if not found:
                missing.append(f'{info.name}.{name}')
    assert not missing, f'public names missing from docs/api/*.rst: {missing}'
