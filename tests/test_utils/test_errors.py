"""UsageError has one home, which neither the config checks nor the CLI helpers import
from each other."""
import subprocess
import sys

from ..conftest import REPO_ROOT


def test_usage_error_is_one_class_wherever_it_is_imported_from():
    from uniremoval_mm.utils import cli, config_checks, errors
    assert cli.UsageError is config_checks.UsageError is errors.UsageError
    assert issubclass(errors.UsageError, ValueError)  # what the tools' callers catch


def test_the_config_checks_do_not_import_the_cli_helpers():
    code = ('import sys, uniremoval_mm.utils.config_checks; '
            "print('uniremoval_mm.utils.cli' in sys.modules)")
    out = subprocess.run([sys.executable, '-c', code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == 'False'
