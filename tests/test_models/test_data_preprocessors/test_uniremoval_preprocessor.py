"""UniRemovalPreprocessor: restores before mmdet's steps, in any detector, frozen or joint."""
import pytest
import torch
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS
from mmengine.registry import DefaultScope

import uniremoval_mm  # noqa: F401
from ...helpers import DET_PREPROCESS, TINY_RESTORER, build_preprocessor, det_batch


def test_an_identity_restorer_changes_nothing_mmdet_does():
    """A new UniRemovalNet is the identity: the output must equal plain mmdet's."""
    ours = build_preprocessor()(det_batch(), training=False)
    plain = DetDataPreprocessor(**DET_PREPROCESS)(det_batch(), training=False)
    torch.testing.assert_close(ours['inputs'], plain['inputs'], atol=1e-4, rtol=0)
    assert ours['inputs'].shape[-2:] == (64, 64)  # padded to 32, odd sizes
    assert ours['data_samples'][0].batch_input_shape == (64, 64)


def test_restorer_sees_rgb_in_unit_range_and_bgr_comes_back():
    pre = build_preprocessor()
    seen = {}

    class RedToZero(torch.nn.Module):

        def forward(self, x):
            seen['x'] = x
            y = x.clone()
            y[:, 0] = 0  # channel 0 of RGB is red
            return y

    pre.restorer = RedToZero()
    out = pre(det_batch(), training=False)
    assert 0 <= float(seen['x'].min()) and float(seen['x'].max()) <= 1
    # the pipeline's images are BGR; after bgr_to_rgb the detector's channel 0 is red
    red = out['inputs'][0, 0, :37, :53]
    torch.testing.assert_close(red, torch.full_like(red, (0 - 123.675) / 58.395))


def test_frozen_by_default_and_joint_when_asked():
    frozen = build_preprocessor().train()
    assert not frozen.restorer.training
    assert all(not p.requires_grad for p in frozen.restorer.parameters())
    joint = build_preprocessor(freeze=False).train()
    for p in joint.restorer.parameters():  # off the identity start, so gradients flow
        if not p.detach().any():
            torch.nn.init.constant_(p, 0.01)
    out = joint(det_batch(), training=True)
    out['inputs'].square().mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in joint.restorer.parameters())


def test_loads_a_stage1_checkpoint(tmp_path):
    """A whole distiller checkpoint (student + teachers + adapters) gives its student."""
    from mmagic.registry import MODELS as MMAGIC
    student = dict(TINY_RESTORER, type='UniRemovalNet', zero_init_tail=False)
    dncnn = dict(type='FrozenTeacher', model=dict(type='DnCNN', depth=3, channels=4))
    with DefaultScope.overwrite_default_scope('mmagic'):
        distiller = MMAGIC.build(dict(
            type='UniRemovalDistiller', generator=student, teachers=dict(noise=dncnn),
            feature_pairs=dict(noise=[('enc0', 'last')]),
            data_preprocessor=dict(type='DataPreprocessor', mean=[0.0] * 3,
                                   std=[255.0] * 3)))
    ckpt = tmp_path / 'stage1.pth'
    # checkpoints saved since the teachers are left out have none; older ones had them
    assert not any(k.startswith('teachers.') for k in distiller.state_dict())
    whole = dict(distiller.state_dict())
    whole.update({f'teachers.noise.{k}': v for k, v in distiller.teachers['noise'].state_dict(
        keep_vars=False).items()})
    torch.save({'state_dict': whole, 'meta': {}}, ckpt)
    pre = build_preprocessor(restorer_checkpoint=str(ckpt))
    torch.testing.assert_close(pre.restorer.tail.weight, distiller.generator.tail.weight)
    with pytest.raises(ValueError, match='input_channel_order'):
        build_preprocessor(input_channel_order='yuv')


def test_faster_rcnn_from_mmdet_config_with_the_preprocessor():
    from mmengine.hub import get_config
    cfg = get_config('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py')
    cfg.model.backbone.init_cfg = None
    cfg.model.data_preprocessor = dict(type='UniRemovalPreprocessor', restorer=TINY_RESTORER,
                                       **DET_PREPROCESS)
    with DefaultScope.overwrite_default_scope('mmdet'):
        model = MODELS.build(cfg.model)
    data = model.data_preprocessor(det_batch(), training=True)
    losses = model(**data, mode='loss')
    total = sum(v if torch.is_tensor(v) else sum(v) for k, v in losses.items() if 'loss' in k)
    assert torch.isfinite(total)
    total.backward()
    model.eval()
    with torch.no_grad():
        pred = model(**model.data_preprocessor(det_batch(), training=False), mode='predict')
    assert len(pred) == 2
