"""offline_imports: albumentations' update check is off before the stack imports it."""
import os
import subprocess
import sys

from uniremoval_mm.compat import offline_imports
from ..conftest import REPO_ROOT

# Records the variable at the moment albumentations is first imported (mmagic's
# transforms import it), then imports our package with the variable unset.
PROBE = '''
import importlib.abc, os, sys
seen = []
class Probe(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == 'albumentations' and not seen:
            seen.append(os.environ.get('NO_ALBUMENTATIONS_UPDATE'))
        return None
sys.meta_path.insert(0, Probe())
import uniremoval_mm  # noqa
import mmagic.datasets.transforms  # noqa: imports albumentations where it is installed
print(seen[0] if seen else 'never imported')
'''


def test_apply_sets_the_switch_and_keeps_the_users_choice(monkeypatch):
    monkeypatch.delenv('NO_ALBUMENTATIONS_UPDATE', raising=False)
    offline_imports.apply()
    assert os.environ['NO_ALBUMENTATIONS_UPDATE'] == '1'
    monkeypatch.setenv('NO_ALBUMENTATIONS_UPDATE', '0')  # a user who wants the check
    offline_imports.apply()
    assert os.environ['NO_ALBUMENTATIONS_UPDATE'] == '0'


def test_the_switch_is_set_before_albumentations_is_imported():
    env = {k: v for k, v in os.environ.items() if k != 'NO_ALBUMENTATIONS_UPDATE'}
    out = subprocess.run([sys.executable, '-c', PROBE], cwd=REPO_ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == '1'
    assert 'A new version of Albumentations' not in out.stderr
