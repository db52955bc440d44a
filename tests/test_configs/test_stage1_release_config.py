"""configs/uniremoval_stage1_cpu-release.py: its cache is built by the tool, it trains from
the cache without running the cached teachers, and its checkpoints carry no teacher."""
import json
import subprocess
import sys

import torch

from ..conftest import REPO_ROOT
from ..helpers import perturbed_student, save_stage1_checkpoint, write_random_photos

CONFIG = REPO_ROOT / 'configs' / 'uniremoval_stage1_cpu-release.py'


def _run(args):
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def test_release_recipe_builds_its_cache_and_trains_from_it(tmp_path):
    photos = write_random_photos(tmp_path / 'photos', [(45, 53), (41, 39)])
    cache = tmp_path / 'cache'
    _run(['tools/misc/build_teacher_cache.py', str(CONFIG), '--threads', '1',
          '--cfg-options', f'teacher_cache.photo_root={photos}', f'teacher_cache.out={cache}',
          'teacher_cache.samples_per_type=2', 'teacher_cache.crop_size=32'])
    manifest = json.loads((cache / 'manifest.json').read_text())
    assert len(manifest['items']) == 10
    # the release recipe continues a first training's student (load_from): stand in one
    start = save_stage1_checkpoint(perturbed_student('S', std=0.01),
                                   tmp_path / 'first_iter_2000.pth')
    work = tmp_path / 'work'
    out = _run(['tools/train.py', str(CONFIG), '--work-dir', str(work), '--cfg-options',
                f'load_from={start}', f'train_dataloader.dataset.data_root={cache}',
                'train_dataloader.num_workers=0',
                'train_dataloader.persistent_workers=False', 'train_cfg.max_iters=2',
                'train_cfg.val_interval=100', 'val_cfg=None', 'val_dataloader=None',
                'val_evaluator=None', 'param_scheduler.T_max=2',
                'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1'])
    assert 'Traceback' not in out and f'Load checkpoint from {start}' in out
    records = [json.loads(line) for line in
               next(work.glob('*/vis_data/scalars.json')).read_text().splitlines()]
    train = [r for r in records if 'sup.loss_pix' in r]
    assert train and {'distill.loss_out', 'distill.reliability', 'igcl.loss'} <= set(train[0])
    state = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=False)['state_dict']
    assert any(k.startswith('generator.') for k in state)
    assert not [k for k in state if k.startswith(('teachers.', 'igcl.extractor.'))]
    # publish: student weights only, float16, loadable by the restore tool's loader
    released = tmp_path / 'released.pth'
    _run(['tools/model_converters/publish_student.py', str(work / 'iter_2.pth'),
          str(released)])
    from uniremoval_mm.utils.checkpoint import load_external_checkpoint
    raw = load_external_checkpoint(str(released))
    assert raw['meta']['dtype'] == 'float16' and raw['meta']['iter'] == 2
    assert all(v.dtype == torch.float16 for v in raw['state_dict'].values()
               if v.is_floating_point())
    assert not [k for k in raw['state_dict'] if k.startswith(('generator.', 'teachers.'))]


def test_ceiling_config_is_the_release_objective_on_one_kind_from_the_release():
    from mmengine.config import Config
    ceiling = Config.fromfile(REPO_ROOT / 'configs' / 'ablations' / 'stage1_release_ceiling.py')
    release = Config.fromfile(CONFIG)
    model = dict(ceiling.model)
    assert model.pop('init_checkpoint') == 'checkpoints/uniremoval-net-s_stage1-cpu.pth'
    assert model == dict(release.model)  # the released objective, unchanged
    assert 'load_from' not in ceiling or ceiling.load_from is None
    assert ceiling.train_dataloader.dataset.degradation_types == ['noise']
    assert ceiling.train_dataloader.dataset.data_root == release.train_dataloader.dataset.data_root
    assert ceiling.train_cfg.max_iters == ceiling.param_scheduler.T_max == 1000
    assert ceiling.optim_wrapper.optimizer.lr == release.optim_wrapper.optimizer.lr == 5e-4
