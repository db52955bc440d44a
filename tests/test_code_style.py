"""The house style of setup.cfg (flake8, isort) holds for the whole repository."""
import subprocess
import sys

import pytest

from .conftest import REPO_ROOT

PATHS = ['uniremoval_mm', 'tools', 'tests', 'configs']


@pytest.mark.parametrize('tool', [['flake8'], ['isort', '--check-only', '--diff']])
def test_style(tool):
    proc = subprocess.run([sys.executable, '-m', *tool, *PATHS], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
