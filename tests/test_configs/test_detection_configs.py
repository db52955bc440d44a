"""configs/detection: the demo detectors (trained from scratch here) build and train a step."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from ..conftest import REPO_ROOT

CONFIGS = sorted((REPO_ROOT / 'configs' / 'detection').glob('*demo*.py'))


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_detector_builds_and_runs_a_step(path):
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData

    import uniremoval_mm  # noqa: F401
    cfg = Config.fromfile(str(path))
    assert cfg.model.backbone.init_cfg is None  # nothing to download
    if 'restorer_checkpoint' in cfg.model.data_preprocessor:
        cfg.model.data_preprocessor.restorer_checkpoint = None  # a trained one is not needed
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    if cfg.model.data_preprocessor.get('reg_weight'):
        from uniremoval_mm.models.data_preprocessors import attach_restorer_losses
        attach_restorer_losses(model)  # what RestorerLossHook does in a run
    samples = []
    for h, w in ((240, 320), (240, 320)):
        s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                        scale_factor=(1.0, 1.0), pad_shape=(h, w)))
        s.gt_instances = InstanceData(bboxes=torch.tensor([[10., 20., 60., 70.]]),
                                      labels=torch.tensor([2]))
        samples.append(s)
    data = model.data_preprocessor(dict(
        inputs=[torch.randint(0, 255, (3, 240, 320), dtype=torch.uint8)] * 2,
        data_samples=samples), training=True)
    assert data['inputs'].shape[-2:] == (256, 320)  # padded to a multiple of 32
    losses = model(**data, mode='loss')
    if cfg.model.data_preprocessor.get('reg_weight'):
        assert 'restorer.loss_reg' in losses
    parts = [v for k, v in losses.items() if k.startswith('loss')]
    total = sum(sum(v) if isinstance(v, list) else v for v in parts)  # per-level lists
    assert torch.isfinite(total)
    total.backward()
    model.eval()
    with torch.no_grad():
        pred = model(**data, mode='predict')
    assert len(pred) == 2 and pred[0].pred_instances.bboxes.shape[-1] == 4


@pytest.mark.parametrize('control, joint', [
    ('rtmdet-tiny_demo-shapes_degraded-ft.py', 'rtmdet-tiny_demo-shapes_uniremoval-s_joint.py'),
    ('rtmdet-tiny_demo-shapes300_degraded-ft.py',
     'rtmdet-tiny_demo-shapes300_uniremoval-s_joint.py'),
])
def test_degraded_ft_control_is_the_joint_recipe_without_a_restorer(control, joint):
    """The no-restorer control trains exactly as the joint run, minus the restorer."""
    det = REPO_ROOT / 'configs' / 'detection'
    ctrl = Config.fromfile(str(det / control))
    joint = Config.fromfile(str(det / joint))
    clean = Config.fromfile(str(det / 'rtmdet-tiny_demo-shapes.py'))
    assert ctrl.model.data_preprocessor == clean.model.data_preprocessor  # plain mmdet's
    assert ctrl.model.data_preprocessor.type == 'DetDataPreprocessor'
    assert 'AddMixedDegradation' in str(ctrl.train_dataloader.dataset.pipeline)
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                'load_from', 'val_dataloader', 'test_dataloader', 'default_hooks'):
        assert ctrl[key] == joint[key], key
    model = {k: v for k, v in ctrl.model.items() if k != 'data_preprocessor'}
    assert model == {k: v for k, v in joint.model.items() if k != 'data_preprocessor'}
    assert ctrl.custom_hooks == []  # no RestorerLossHook, no EMA (as the joint run)


def test_joint_300_recipe_warms_up_and_starts_from_the_released_student():
    """Issue 16's joint row: released student, a warm-up, a decay that ends settled."""
    cfg = Config.fromfile(str(REPO_ROOT / 'configs' / 'detection' /
                              'rtmdet-tiny_demo-shapes300_uniremoval-s_joint.py'))
    pre = cfg.model.data_preprocessor
    assert pre.restorer_checkpoint == 'checkpoints/uniremoval-net-s_stage1-cpu.pth'
    assert (REPO_ROOT / pre.restorer_checkpoint).is_file()
    assert pre['freeze'] is False and pre['reg_weight'] > 0
    warm, decay = cfg.param_scheduler
    assert warm.type == 'LinearLR' and warm.begin == 0 and warm.end == cfg.warmup_iters
    assert decay.type == 'CosineAnnealingLR' and decay.end == cfg.train_cfg.max_epochs
    assert decay.eta_min < cfg.optim_wrapper.optimizer.lr
    # trains on the 300-image build's training images (the same 240 as the default build)
    assert cfg.train_dataloader.dataset.data_root == 'data/demo_det300/detection/'
    assert cfg.train_cfg.val_interval == cfg.train_cfg.max_epochs  # once, at the end
