"""configs/_base_/teachers.py: every teacher builds; local ones load the real weights."""
import pytest
import torch
from mmagic.registry import MODELS
from mmengine.config import Config

from ..conftest import REPO_ROOT, SHARED

TEACHERS = Config.fromfile(str(REPO_ROOT / 'configs/_base_/teachers.py'))
NAMES = sorted(k for k, v in TEACHERS.items() if isinstance(v, dict) and
               v.get('type') == 'FrozenTeacher')
REMOTE = [n for n in NAMES if str(TEACHERS[n].get('checkpoint', '')).startswith('http')]
LOCAL = [n for n in NAMES if n not in REMOTE]


def test_weights_root_points_at_shared_realdata():
    assert (REPO_ROOT / TEACHERS.weights_root).resolve() == (SHARED / 'realdata/weights')


@pytest.mark.parametrize('name', LOCAL)
def test_local_teacher_loads_real_weights(name, realdata, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)  # weights_root is relative to the repository root
    import uniremoval_mm  # noqa: F401
    teacher = MODELS.build(TEACHERS[name])
    out = teacher(torch.rand(1, 3, 19, 23))
    assert out.shape == (1, 3, 19, 23) and 0 <= out.min() and out.max() <= 1


@pytest.mark.parametrize('name', REMOTE)
def test_remote_teacher_architecture_builds(name):
    """No internet here: build the mmagic architecture; the official URL stays in the config."""
    import uniremoval_mm  # noqa: F401
    cfg = dict(TEACHERS[name], checkpoint=None)
    teacher = MODELS.build(cfg)
    assert sum(p.numel() for p in teacher.parameters()) > 1e6
    assert TEACHERS[name].checkpoint.startswith('https://download.openmmlab.com/mmediting/')
