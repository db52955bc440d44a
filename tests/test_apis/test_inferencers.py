"""The host libraries' own entry points on our configs: mmagic's and mmdet's inferencers.

The mmdet cases run in a fresh interpreter: whether ``uniremoval_mm`` gets imported
without the user importing it can only be seen in a process that has not imported it.
"""
import json
import os
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import torch

from ..conftest import REPO_ROOT

STAGE1 = REPO_ROOT / 'configs' / 'uniremoval_stage1.py'
SHIPPED = REPO_ROOT / 'checkpoints' / 'uniremoval-net-s_stage1-cpu.pth'
RTTS = REPO_ROOT / 'configs' / 'detection' / 'rtmdet-tiny_uniremoval-s_rtts.py'


def _photo(path, h=45, w=67):
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 2)
    assert cv2.imwrite(str(path), img)
    return path


def test_mmagic_inferencers_import():
    from mmagic.apis import MMagicInferencer  # noqa: F401  (imports controlnet_aux)
    from mmagic.apis.inferencers import Inferencers  # noqa: F401


def test_mmagic_restoration_inferencer_runs_the_stage1_config_and_shipped_checkpoint(tmp_path):
    from mmagic.apis.inferencers import Inferencers

    from uniremoval_mm.apis import init_restorer
    photo = _photo(tmp_path / 'in.png')
    inferencer = Inferencers('Image Restoration', config=str(STAGE1), ckpt=str(SHIPPED),
                             device='cpu')
    _, restored = inferencer(img=str(photo), result_out_dir=str(tmp_path / 'out.png'))

    bgr = cv2.imread(str(photo))
    net = init_restorer(str(STAGE1), str(SHIPPED))  # the network as trained (not fused)
    with torch.no_grad():
        x = torch.from_numpy(bgr[..., ::-1].copy()).permute(2, 0, 1)[None].float() / 255
        y = net(x)[0].clamp(0, 1).permute(1, 2, 0).numpy()
    expected = (y * 255).round().astype(np.uint8)[..., ::-1]  # BGR, as mmagic returns it
    assert restored.shape == bgr.shape and restored.dtype == np.uint8
    assert np.abs(restored.astype(int) - expected.astype(int)).max() <= 1
    assert np.abs(restored.astype(int) - bgr.astype(int)).max() > 10  # not the identity
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / 'out.png')), restored)


def _run_fresh(script: str, cwd) -> dict:
    """Run ``script`` in a new interpreter that can import the package but has not; its
    last stdout line is JSON."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]),
        OMP_NUM_THREADS='1', NO_ALBUMENTATIONS_UPDATE='1')
    out = subprocess.run([sys.executable, '-c', textwrap.dedent(script)], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


DET_SCRIPT = '''
import json, sys
import torch
from mmdet.apis import DetInferencer
report = dict(imported_at_start='uniremoval_mm' in sys.modules)
try:  # 1. a bare type name, and nothing that imports the package: mmengine cannot find it
    DetInferencer(model={plain!r}, device='cpu', show_progress=False)
    report['plain'] = 'built'
except KeyError as e:
    report['plain'] = str(e)
# 2. our config by path: Config.fromfile runs its custom_imports
inferencer = DetInferencer(model={rtts!r}, device='cpu', show_progress=False)
pre = inferencer.model.data_preprocessor
calls, restore = [], pre.restore
pre.restore = lambda inputs: calls.append(len(inputs)) or restore(inputs)
out = inferencer({photo!r}, no_save_pred=True, no_save_vis=True, return_vis=False)
shipped = torch.load({shipped!r}, map_location='cpu', weights_only=True)['state_dict']
report.update(
    imported_by_config='uniremoval_mm' in sys.modules,
    preprocessor=type(pre).__name__,
    restorer_loaded=all(torch.equal(v.float(), pre.restorer.state_dict()[k].float())
                        for k, v in shipped.items()),
    restored=calls, prediction_keys=sorted(out['predictions'][0]))
print(json.dumps(report))
'''

DOTTED_SCRIPT = '''
import json, sys
from mmengine.config import Config
from mmdet.apis import DetInferencer
cfg = Config.fromfile({dotted!r})  # no custom_imports in it
assert 'uniremoval_mm' not in sys.modules
inferencer = DetInferencer(model=cfg, device='cpu', show_progress=False)
pre = inferencer.model.data_preprocessor
calls, restore = [], pre.restore
pre.restore = lambda inputs: calls.append(len(inputs)) or restore(inputs)
out = inferencer({photo!r}, no_save_pred=True, no_save_vis=True, return_vis=False)
print(json.dumps(dict(preprocessor=type(pre).__name__, imported='uniremoval_mm' in sys.modules,
                      restored=calls, prediction_keys=sorted(out['predictions'][0]))))
'''

TINY_DETECTOR = '''
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
model = dict(backbone=dict(init_cfg=None),
             data_preprocessor=dict(type={type!r},
                                    restorer=dict(type='mmagic.UniRemovalNetT')))
'''


def test_det_inferencer_with_our_preprocessor_in_a_fresh_process(tmp_path):
    plain = tmp_path / 'plain.py'
    plain.write_text(TINY_DETECTOR.format(type='UniRemovalPreprocessor'))
    report = _run_fresh(DET_SCRIPT.format(plain=str(plain), rtts=str(RTTS), shipped=str(SHIPPED),
                                          photo=str(_photo(tmp_path / 'in.png'))), tmp_path)
    assert not report['imported_at_start']
    assert 'UniRemovalPreprocessor is not in the mmdet::model registry' in report['plain']
    assert report['imported_by_config']
    assert report['preprocessor'] == 'UniRemovalPreprocessor'
    assert report['restorer_loaded']
    assert report['restored'] == [1]  # the photo went through the restorer
    assert report['prediction_keys'] == ['bboxes', 'labels', 'scores']


def test_det_inferencer_finds_the_preprocessor_by_its_import_path(tmp_path):
    dotted = tmp_path / 'dotted.py'
    dotted.write_text(TINY_DETECTOR.format(type='uniremoval_mm.models.UniRemovalPreprocessor'))
    report = _run_fresh(DOTTED_SCRIPT.format(dotted=str(dotted),
                                             photo=str(_photo(tmp_path / 'in.png'))), tmp_path)
    assert report == dict(preprocessor='UniRemovalPreprocessor', imported=True, restored=[1],
                          prediction_keys=['bboxes', 'labels', 'scores'])


WEIGHTS_ONLY_SCRIPT = '''
import json, sys
from mmdet.apis import DetInferencer
assert 'uniremoval_mm' not in sys.modules
inferencer = DetInferencer(weights={weights!r}, device='cpu', show_progress=False)
out = inferencer({photo!r}, no_save_pred=True, no_save_vis=True, return_vis=False)
print(json.dumps(dict(preprocessor=type(inferencer.model.data_preprocessor).__name__,
                      prediction_keys=sorted(out['predictions'][0]))))
'''


def test_det_inferencer_from_a_checkpoint_that_holds_our_config(tmp_path):
    from mmengine.config import Config
    cfg = Config.fromfile(str(RTTS))  # what a training run stores in its checkpoints
    weights = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': {}, 'meta': {},
                'message_hub': {'runtime_info': {'cfg': cfg.pretty_text}}}, weights)
    report = _run_fresh(WEIGHTS_ONLY_SCRIPT.format(weights=str(weights),
                                                   photo=str(_photo(tmp_path / 'in.png'))),
                        tmp_path)
    assert report == dict(preprocessor='UniRemovalPreprocessor',
                          prediction_keys=['bboxes', 'labels', 'scores'])
