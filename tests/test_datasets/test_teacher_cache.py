"""The teacher cache: tools/misc/build_teacher_cache.py builds it, TeacherCacheDataset serves
it and refuses it once the teachers or photos that made it change."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from ..conftest import REPO_ROOT
from ..helpers import write_random_photos

CONFIG = """
_base_ = '{repo}/configs/uniremoval_stage1.py'
degradation_types = ['haze', 'noise', 'blur']
teachers = dict(
    haze=dict(_scope_='mmagic', type='FrozenTeacher',
              model=dict(type='DarkChannelPrior', patch=5, radius=4)),
    noise=dict(_scope_='mmagic', type='FrozenTeacher',
               model=dict(type='DnCNN', depth=3, channels=4), checkpoint='{ckpt}'),
    blur=None)
teacher_cache = dict(photo_root='{photos}', out='{out}', samples_per_type=3, crop_size=24,
                     seed=0, degradation_types=degradation_types)
model = dict(_delete_=True, type='UniRemovalDistiller', generator=dict(type='UniRemovalNetT'),
             teachers=teachers, degradation_types=['haze', 'rain', 'blur', 'noise', 'mixed'])
"""


def _setup(tmp_path):
    from mmagic.registry import MODELS

    import uniremoval_mm  # noqa: F401
    photos = write_random_photos(tmp_path / 'photos', [(37, 45), (29, 33)])
    cv2.imwrite(str(photos / 'small.png'), np.zeros((9, 9, 3), np.uint8))
    ckpt = tmp_path / 'dncnn.pth'
    torch.manual_seed(0)
    torch.save(MODELS.build(dict(type='DnCNN', depth=3, channels=4, _scope_='mmagic'))
               .state_dict(), ckpt)
    cfg = tmp_path / 'cfg.py'
    cfg.write_text(CONFIG.format(repo=REPO_ROOT, ckpt=ckpt, photos=photos,
                                 out=tmp_path / 'cache'))
    return cfg, ckpt


def _build(cfg):
    proc = subprocess.run([sys.executable, 'tools/misc/build_teacher_cache.py', str(cfg),
                           '--threads', '1'], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr


def _dataset(cfg_path, **kwargs):
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from uniremoval_mm.datasets import TeacherCacheDataset
    cfg = Config.fromfile(str(cfg_path))
    pipeline = [
        dict(type='LoadImageChecked', key='img', channel_order='rgb'),
        dict(type='LoadImageChecked', key='gt', channel_order='rgb'),
        dict(type='LoadImageChecked', key='ref', channel_order='rgb'),
        dict(type='Flip', keys=['img', 'gt', 'ref'], flip_ratio=1.0, direction='vertical'),
        dict(type='PackInputs', meta_keys=['degradation_type', 'has_teacher']),
    ]
    with DefaultScope.overwrite_default_scope('mmagic'):
        return TeacherCacheDataset(data_root=cfg.teacher_cache['out'],
                                   teachers=cfg.teachers.to_dict(), pipeline=pipeline,
                                   **kwargs)


def test_build_serve_and_refuse_when_stale(tmp_path):
    cfg, ckpt = _setup(tmp_path)
    out = _build(cfg)
    assert 'smaller than the 24-px crop' in out  # the 9-px photo is skipped, named
    cache = tmp_path / 'cache'
    manifest = json.loads((cache / 'manifest.json').read_text())
    assert len(manifest['items']) == 9 and set(manifest['photos']) == {'p0.png', 'p1.png'}
    assert (cache / 'teacher' / 'noise_00002.png').is_file()
    assert not (cache / 'teacher' / 'blur_00000.png').exists()
    # the cached output is the teacher's output on the cached input
    from mmagic.registry import MODELS
    from mmengine.config import Config
    teacher = MODELS.build(Config.fromfile(str(cfg)).teachers.noise.to_dict())
    lq = cv2.imread(str(cache / 'lq' / 'noise_00001.png'))[..., ::-1].copy()
    y = teacher(torch.from_numpy(lq).permute(2, 0, 1)[None].float() / 255)
    cached = cv2.imread(str(cache / 'teacher' / 'noise_00001.png'))[..., ::-1]
    expected = y[0].mul(255).round().byte().permute(1, 2, 0).numpy()
    assert np.abs(cached.astype(int) - expected.astype(int)).max() <= 1

    ds = _dataset(cfg)
    assert len(ds) == 9
    kinds = [ds.get_data_info(i)['degradation_type'] for i in range(len(ds))]
    assert sorted(set(kinds)) == ['blur', 'haze', 'noise']
    idx = kinds.index('noise')
    sample = ds[idx]['data_samples']
    assert sample.has_teacher and sample.ref_img.shape == (3, 24, 24)
    # the pipeline's (vertical) flip moves the three images together
    ref = cv2.imread(ds.get_data_info(idx)['ref_path'])[..., ::-1]
    flipped = np.ascontiguousarray(ref[::-1])
    assert torch.equal(sample.ref_img, torch.from_numpy(flipped).permute(2, 0, 1))
    blur = ds[kinds.index('blur')]['data_samples']
    assert not blur.has_teacher and torch.equal(blur.ref_img, blur.gt_img)

    assert 'up to date' in _build(cfg)  # nothing to do
    # another teacher checkpoint: the dataset refuses the cache, the tool rebuilds it
    state = torch.load(ckpt)
    state = {k: v + 0.01 if v.is_floating_point() else v for k, v in state.items()}
    torch.save(state, ckpt)
    with pytest.raises(ValueError, match="stale.*'noise'.*build_teacher_cache.py"):
        _dataset(cfg)
    assert 'rebuilding' in _build(cfg)
    assert len(_dataset(cfg)) == 9
    # a changed photo is found too
    cv2.imwrite(str(tmp_path / 'photos' / 'p1.png'), np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(ValueError, match='stale.*p1.png'):
        _dataset(cfg)
    assert len(_dataset(cfg, check_photos=False)) == 9


def test_missing_or_foreign_folders_are_named(tmp_path):
    from uniremoval_mm.datasets import TeacherCacheDataset
    with pytest.raises(FileNotFoundError, match='no teacher cache.*build_teacher_cache'):
        TeacherCacheDataset(data_root=str(tmp_path / 'nowhere'))
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'manifest.json').write_text('{not json')
    with pytest.raises(ValueError, match='unreadable manifest'):
        TeacherCacheDataset(data_root=str(tmp_path / 'bad'))
    cfg, _ = _setup(tmp_path)
    (tmp_path / 'cache').mkdir()
    (tmp_path / 'cache' / 'mine.txt').write_text('a user file')
    proc = subprocess.run([sys.executable, 'tools/misc/build_teacher_cache.py', str(cfg)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0 and 'is not a teacher cache' in proc.stderr
    assert (tmp_path / 'cache' / 'mine.txt').read_text() == 'a user file'
