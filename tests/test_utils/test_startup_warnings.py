"""Importing the package silences the stack's two start-up warnings, and only those."""
import subprocess
import sys

from ..conftest import REPO_ROOT

SCRIPT = """
import warnings
warnings.simplefilter('default')
import uniremoval_mm  # noqa: F401
import mmagic.models  # noqa: F401  (imports diffusers)
warnings.warn('a FutureWarning of someone else', FutureWarning)
"""


def test_stack_start_up_warnings_are_silenced_and_others_are_not():
    proc = subprocess.run([sys.executable, '-c', SCRIPT], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '_register_pytree_node' not in proc.stderr
    assert 'pkg_resources is deprecated' not in proc.stderr
    assert 'a FutureWarning of someone else' in proc.stderr


def test_without_our_package_the_stack_prints_them():
    """The test above can fail: the warning is real without the filter."""
    script = "import warnings\nwarnings.simplefilter('default')\nimport mmagic.models\n"
    proc = subprocess.run([sys.executable, '-c', script], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert '_register_pytree_node' in proc.stderr
