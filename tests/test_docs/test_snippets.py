"""Fenced snippets in README and docs/ marked in their info string:

* ```` ```python runnable ```` / ```` ```bash runnable ````: run here, on tiny inputs, in an
  empty folder holding ``photo.jpg`` (a small generated picture), with this repository's
  package importable and ``python`` the test's own interpreter;
* ```` ```python needs-data ```` / ```` ```bash needs-data ````: need data a user must
  download; checked to parse (``ast.parse``, ``bash -n``), and every ``tools/...py`` they
  name must exist.

Unmarked snippets are not checked. The shipped checkpoint makes them fast (seconds)."""
import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ..conftest import REPO_ROOT
from ..helpers import load_tool

FENCE = re.compile(r'^```(?P<lang>\w+)(?P<tags>[^\n]*)\n(?P<code>.*?)^```\s*$', re.S | re.M)
MARKS = ('runnable', 'needs-data')


def snippets(path: Path):
    """(language, mark, code, line) of the marked fenced snippets of a markdown file."""
    text = path.read_text()
    for m in FENCE.finditer(text):
        mark = next((t for t in m['tags'].split() if t in MARKS), None)
        if mark is not None:
            yield m['lang'], mark, m['code'], text.count('\n', 0, m.start()) + 1


ALL = [(path, *s) for path in load_tool('misc/render_docs.py').markdown_files()
       for s in snippets(path)]


def _id(item):
    path, lang, mark, _, line = item
    return f'{path.relative_to(REPO_ROOT)}:{line}:{lang}:{mark}'


def test_snippets_are_found_by_their_marks(tmp_path):
    doc = tmp_path / 'd.md'
    doc.write_text('```python runnable\nx = 1\n```\n```bash\nls\n```\n'
                   '```bash needs-data\nls data/\n```\n')
    assert [(lang, mark, line) for lang, mark, _, line in snippets(doc)] == [
        ('python', 'runnable', 1), ('bash', 'needs-data', 7)]


def test_the_readme_and_user_guides_have_runnable_snippets():
    files = {p.relative_to(REPO_ROOT).as_posix() for p, _, mark, _, _ in ALL
             if mark == 'runnable'}
    assert 'README.md' in files and any(f.startswith('docs/user_guides/') for f in files)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    import cv2
    rng = np.random.default_rng(0)
    cv2.imwrite(str(tmp_path / 'photo.jpg'), rng.integers(0, 256, (45, 61, 3), np.uint8))
    monkeypatch.chdir(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS='1', NO_ALBUMENTATIONS_UPDATE='1',
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT), os.environ.get('PYTHONPATH', '')]),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ['PATH']]))
    return tmp_path, env


def _tool_paths(code: str):
    return re.findall(r'(?<![\w.-])(tools/[\w/.-]+\.(?:py|sh))', code)


@pytest.mark.parametrize('item', [s for s in ALL if s[2] == 'runnable'], ids=_id)
def test_a_runnable_snippet_runs(item, sandbox):
    path, lang, _, code, line = item
    folder, env = sandbox
    if lang == 'python':
        # a fresh namespace, in this process (the stack is imported once for all of them)
        exec(compile(code, f'{path.name}:{line}', 'exec'), {'__name__': '__snippet__'})
    elif lang == 'bash':
        proc = subprocess.run(['bash', '-euo', 'pipefail', '-c', code], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    else:
        pytest.fail(f'{_id(item)}: no runner for {lang}')


@pytest.mark.parametrize('item', [s for s in ALL if s[2] == 'needs-data'], ids=_id)
def test_a_needs_data_snippet_parses_and_names_existing_tools(item):
    path, lang, _, code, line = item
    if lang == 'python':
        ast.parse(re.sub(r'\{\{[^}]*\}\}', 'None', code))  # mmengine's {{_base_.x}}
    elif lang == 'bash':
        proc = subprocess.run(['bash', '-n', '-c', code], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    for tool in _tool_paths(code):
        assert (REPO_ROOT / tool).is_file(), f'{_id(item)}: {tool} does not exist'
