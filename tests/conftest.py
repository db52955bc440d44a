"""Suite-wide pytest settings.

* A run in which no test passed fails (exit code 1), even if everything was skipped:
  `.ci/run` must never go green on a suite that checked nothing.
* ``shared_dir`` / ``realdata`` fixtures point at ``../shared`` next to the repository and
  skip with a clear reason where it is absent (a user's machine has none).
"""
import os
from pathlib import Path

import pytest

# albumentations (via mmagic) would ask PyPI for updates at import; tests never go online
os.environ.setdefault('NO_ALBUMENTATIONS_UPDATE', '1')

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / 'shared'

_passed = 0


def pytest_runtest_logreport(report):
    global _passed
    if report.when == 'call' and report.passed:
        _passed += 1


def pytest_sessionfinish(session, exitstatus):
    if exitstatus == 0 and _passed == 0:
        session.config.get_terminal_writer().line(
            'conftest: no test passed (all skipped or none collected): failing the run',
            red=True)
        session.exitstatus = 1


@pytest.fixture(scope='session')
def realdata() -> Path:
    """``../shared/realdata``; skips the test where it is absent."""
    path = SHARED / 'realdata'
    if not (path / 'README.md').is_file():
        pytest.skip(f'{path} is absent: real third-party data is only on developer/CI machines')
    return path


@pytest.fixture(scope='session')
def huge_jpeg(tmp_path_factory) -> Path:
    """An 8000x6000 JPEG (tests/helpers.py), written once per session; few tests
    decode it (about 0.5 s and 150 MB each time)."""
    from .helpers import write_huge_jpeg
    return write_huge_jpeg(tmp_path_factory.mktemp('huge') / 'huge_8000x6000.jpg')
