"""The harness itself: .ci/run's guard against suites that check nothing, install.sh's CLI."""
import subprocess
import sys

from ..conftest import REPO_ROOT


def _pytest_exit_code(tmp_path, test_source: str) -> int:
    (tmp_path / 'test_probe.py').write_text(test_source)
    (tmp_path / 'conftest.py').write_text((REPO_ROOT / 'tests' / 'conftest.py').read_text())
    proc = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                           str(tmp_path)], cwd=tmp_path, capture_output=True, text=True)
    return proc.returncode


def test_a_run_where_everything_skips_fails(tmp_path):
    src = 'import pytest\n\n\ndef test_x():\n    pytest.skip("nothing here")\n'
    assert _pytest_exit_code(tmp_path, src) == 1


def test_a_run_with_a_passing_test_passes(tmp_path):
    assert _pytest_exit_code(tmp_path, 'def test_x():\n    assert True\n') == 0


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / 'README.md').read_text()
    ci = (REPO_ROOT / '.ci' / 'run').read_text()
    assert 'make test' in readme and 'make test' in ci.splitlines()[-1]


def test_install_script_rejects_unknown_arguments():
    proc = subprocess.run(['bash', 'tools/install.sh', '--bogus'], cwd=REPO_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "unknown argument '--bogus'" in proc.stderr
    help_text = subprocess.run(['bash', 'tools/install.sh', '--help'], cwd=REPO_ROOT,
                               capture_output=True, text=True).stdout
    assert '--wheel-dir' in help_text and '--tests' in help_text
