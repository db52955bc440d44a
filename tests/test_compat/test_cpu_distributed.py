"""CPU distributed training (gloo) through tools/dist_train.sh, with a trainable restorer.

The pre-processor runs in mmengine's ``train_step`` outside DDP's forward; this checks
that the restorer's gradients are still all-reduced: after several steps on different
data, every weight (restorer and detector) is identical on both ranks, and changed.
"""
import json
import os
import subprocess
import sys

import pytest
import torch

from ..conftest import REPO_ROOT
from ..helpers import make_tiny_coco, tiny_faster_rcnn_config

RESTORER = "dict(type='mmagic.UniRemovalNet', width=4, enc_blocks=(1, 1), middle_blocks=1, " \
    'zero_init_tail=False)'


def _config(tmp_path) -> str:
    make_tiny_coco(tmp_path / 'data')
    return tiny_faster_rcnn_config(tmp_path / 'data', max_iters=4) + f'''
custom_imports = dict(imports=['uniremoval_mm', 'tests.test_compat.rank_snapshot'],
                      allow_failed_imports=False)
model['data_preprocessor'] = dict(
    type='UniRemovalPreprocessor', restorer={RESTORER}, freeze=False, reg_weight=0.1)
custom_hooks = [dict(type='RestorerLossHook'),
                dict(type='RankSnapshotHook', out_dir='{tmp_path}')]
train_cfg['val_interval'] = 1000
default_hooks['checkpoint']['interval'] = 1000
env_cfg = dict(dist_cfg=dict(backend='gloo'))
'''


def test_two_cpu_processes_keep_identical_weights(tmp_path):
    if torch.cuda.is_available():
        pytest.skip('a GPU is present: this checks the CPU (gloo) path')
    config = tmp_path / 'dist.py'
    config.write_text(_config(tmp_path))
    env = dict(os.environ, PORT='29547',
               PATH=f'{os.path.dirname(sys.executable)}:{os.environ["PATH"]}')
    proc = subprocess.run(['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir',
                           str(tmp_path / 'work')], cwd=REPO_ROOT, capture_output=True,
                          text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'restorer.loss_reg' in proc.stdout + proc.stderr  # logged with the losses
    seen = [json.loads((tmp_path / f'rank{r}_seen.json').read_text()) for r in (0, 1)]
    assert len(seen[0]) == 4 and all(a != b for a, b in zip(*seen))  # each step: other images
    before = [torch.load(tmp_path / f'rank{r}_before.pth') for r in (0, 1)]
    after = [torch.load(tmp_path / f'rank{r}_after.pth') for r in (0, 1)]
    assert bool(after[0].pop('_wrapped')) and bool(after[1].pop('_wrapped'))  # DDP was used
    params = [k for k, v in after[0].items() if v.is_floating_point()
              and 'running_' not in k and 'restorer_init' not in k]
    restorer = [k for k in params if k.startswith('data_preprocessor.restorer.')]
    assert restorer
    for key in params:
        torch.testing.assert_close(after[0][key], after[1][key], rtol=0, atol=0, msg=key)
    changed = [k for k in params if not torch.equal(before[0][k], after[0][k])]
    assert set(restorer) <= set(changed)
    assert any(k.startswith('rpn_head.') for k in changed)
    # the regulariser's frozen copy never moves
    for key in after[0]:
        if key.startswith('data_preprocessor.restorer_init.'):
            torch.testing.assert_close(after[0][key], before[0][key], rtol=0, atol=0)
