"""configs/ablations/stage1_cache_detaware.py: IGCL on the demo detector's features.

Nothing is trained: the config loads, its taps exist in the demo detector, and the
stage-1 model builds with a tiny detector substituted by cfg-options, leaving the
detector out of its checkpoints.
"""
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..conftest import REPO_ROOT

CONFIG = REPO_ROOT / 'configs' / 'ablations' / 'stage1_cache_detaware.py'
TINY_RTMDET = '''
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
model = dict(data_preprocessor=dict(pad_size_divisor=32),
             backbone=dict(widen_factor=0.125, init_cfg=None),
             neck=dict(in_channels=[32, 64, 128], out_channels=16),
             bbox_head=dict(in_channels=16, feat_channels=16, num_classes=3))
'''


def _tiny_detector(tmp_path):
    """A tiny RTMDet's config file, a checkpoint of its random weights, and the model."""
    from mmdet.registry import MODELS as DET_MODELS
    det_cfg = tmp_path / 'tiny_rtmdet.py'
    det_cfg.write_text(TINY_RTMDET)
    torch.manual_seed(0)
    det = DET_MODELS.build(dict(Config.fromfile(str(det_cfg)).model, _scope_='mmdet'))
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=det.state_dict()), ckpt)
    return det_cfg, ckpt, det


def test_config_names_the_demo_detector_and_its_taps(monkeypatch):
    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.models import DetectorFeatureExtractor
    monkeypatch.chdir(REPO_ROOT)
    cfg = Config.fromfile(str(CONFIG))
    ext = cfg.model.igcl.extractor
    assert ext.type == 'DetectorFeatureExtractor'
    assert ext.config == cfg.det_config == 'configs/demo/rtmdet-tiny_demo-shapes.py'
    assert ext.checkpoint == cfg.det_checkpoint == 'work_dirs/demo/detector/epoch_12.pth'
    assert tuple(cfg.model.igcl.layers) == tuple(ext.taps) == tuple(cfg.det_layers)
    assert len(cfg.model.igcl.layer_weights) == len(cfg.det_layers)
    assert cfg.model.clean_identity_weight > 0
    # the rest is stage1_cache_igcl.py's
    base = Config.fromfile(str(CONFIG.parent / 'stage1_cache_igcl.py'))
    assert cfg.model.igcl.views == base.model.igcl.views
    assert cfg.model.igcl.loss_weight == base.model.igcl.loss_weight
    assert cfg.train_cfg.max_iters == base.train_cfg.max_iters
    # the demo detector (random weights: no checkpoint needed for its shapes) has the taps
    demo = DetectorFeatureExtractor(config=ext.config, use_neck=True, taps=ext.taps)
    _, taps = demo(torch.rand(1, 3, 37, 53), return_features=True)
    assert list(taps) == list(cfg.det_layers)


def test_stage1_builds_with_a_tiny_detector_via_cfg_options(tmp_path, monkeypatch):
    from mmagic.registry import MODELS

    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.models import DetectorFeatureExtractor, UniRemovalNetT
    det_cfg, ckpt, det = _tiny_detector(tmp_path)
    monkeypatch.chdir(REPO_ROOT)
    cfg = Config.fromfile(str(CONFIG))
    cfg.merge_from_dict({'model.igcl.extractor.config': str(det_cfg),
                         'model.igcl.extractor.checkpoint': str(ckpt)})
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(cfg.model)
    ext = model.igcl.extractor
    assert isinstance(ext, DetectorFeatureExtractor)
    saved = det.state_dict()
    assert all(torch.equal(v, saved[k]) for k, v in ext.state_dict().items())
    assert not [k for k in model.state_dict() if k.startswith('igcl.extractor.')]
    # the loss runs and its gradient reaches a restorer in front
    restorer = UniRemovalNetT()
    clean = torch.rand(2, 3, 32, 32)
    degraded = (0.5 * clean + 0.4).clamp(0, 1)
    loss = model.igcl(restorer(degraded), clean, degraded)
    loss.backward()
    assert torch.isfinite(loss) and loss > 0
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in restorer.parameters())
    assert all(p.grad is None for p in ext.parameters())


TUNE = REPO_ROOT / 'configs' / 'ablations' / 'stage1_detaware_tune.py'


def test_detaware_tuning_and_its_control_differ_by_the_detector_views_only(
        tmp_path, monkeypatch):
    from mmagic.registry import MODELS

    import uniremoval_mm  # noqa: F401
    monkeypatch.chdir(REPO_ROOT)
    tune = Config.fromfile(str(TUNE))
    control = Config.fromfile(str(TUNE.parent / 'stage1_detaware_tune_control.py'))
    assert tune.model.init_checkpoint.endswith('checkpoints/uniremoval-net-s_stage1-cpu.pth')
    assert tune.model.igcl.extractor.checkpoint == 'work_dirs/rtmdet_demo/epoch_40.pth'
    assert tune.train_dataloader.dataset.data_root == 'data/demo/detection/train'
    assert control.model.igcl.extractor is None and control.model.igcl.layers is None
    for key in ('views', 'loss_weight', 'mode', 'batch_negative_weight'):
        assert tune.model.igcl[key] == control.model.igcl[key]
    strip = ('igcl', )
    assert ({k: v for k, v in tune.model.items() if k not in strip}
            == {k: v for k, v in control.model.items() if k not in strip})
    assert tune.train_dataloader == control.train_dataloader
    assert tune.optim_wrapper == control.optim_wrapper and tune.randomness == control.randomness
    # it builds from the released student, with a tiny detector in place of the real one
    det_cfg, ckpt, det = _tiny_detector(tmp_path)
    tune.merge_from_dict({'model.igcl.extractor.config': str(det_cfg),
                          'model.igcl.extractor.checkpoint': str(ckpt)})
    with DefaultScope.overwrite_default_scope('mmagic'):
        model = MODELS.build(tune.model)
    released = torch.load(REPO_ROOT / tune.model.init_checkpoint, weights_only=True)
    for k, v in released['state_dict'].items():
        torch.testing.assert_close(model.generator.state_dict()[k], v.float())
    assert not model.teachers  # ground truth, image views and the detector only


def test_the_long_tuning_is_the_tuning_with_400_iterations_and_so_is_its_control(
        monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    tune, long = (Config.fromfile(str(TUNE.parent / f'{name}.py'))
                  for name in ('stage1_detaware_tune', 'stage1_detaware_tune_long'))
    # what the measured runs set with --cfg-options (docs/experiments/2026-12-07_detection.md)
    tune.merge_from_dict({'max_iters': 400, 'train_cfg.max_iters': 400,
                          'train_cfg.val_interval': 400, 'param_scheduler.T_max': 400,
                          'default_hooks.checkpoint.interval': 400})
    for key in ('model', 'train_dataloader', 'optim_wrapper', 'param_scheduler',
                'train_cfg', 'default_hooks', 'randomness', 'max_iters'):
        assert tune[key] == long[key], key
    control = Config.fromfile(str(TUNE.parent / 'stage1_detaware_tune_long_control.py'))
    assert control.train_cfg == long.train_cfg and control.param_scheduler == long.param_scheduler
    assert control.model.igcl.extractor is None and long.model.igcl.extractor is not None
