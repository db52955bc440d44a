"""UniRemovalPreprocessor's options: train modes, regulariser, AMP, tiling, checks, loading."""
import warnings

import pytest
import torch
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS
from mmengine.registry import DefaultScope

import uniremoval_mm  # noqa: F401
from uniremoval_mm.models.data_preprocessors import attach_restorer_losses
from ...helpers import DET_PREPROCESS, TINY_RESTORER, build_preprocessor, det_batch


class RedToZero(torch.nn.Module):
    """Pointwise and recognisable: RGB channel 0 (red) becomes 0; records its input."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x):
        self.seen.append(x)
        return torch.cat([torch.zeros_like(x[:, :1]), x[:, 1:]], 1)


def _off_identity(pre):
    """A new UniRemovalNet is the identity with zero tails: move it so gradients flow."""
    for p in pre.restorer.parameters():
        if not p.detach().any():
            torch.nn.init.constant_(p, 0.01)


def _tiny_rtmdet(**pre_kwargs):
    from mmengine.hub import get_config
    cfg = get_config('mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py').model
    cfg.backbone.init_cfg = None
    cfg.bbox_head.num_classes = 3
    cfg.data_preprocessor = dict(type='UniRemovalPreprocessor', restorer=TINY_RESTORER,
                                 **DET_PREPROCESS, **pre_kwargs)
    with DefaultScope.overwrite_default_scope('mmdet'):
        torch.manual_seed(0)
        return MODELS.build(cfg)


def test_train_modes():
    raw = build_preprocessor(train_mode='raw')
    raw.restorer = RedToZero()
    plain = DetDataPreprocessor(**DET_PREPROCESS)
    torch.testing.assert_close(raw(det_batch(), training=True)['inputs'],
                               plain(det_batch(), training=True)['inputs'])
    assert not raw.restorer.seen
    assert raw(det_batch(), training=False)['inputs'][:, 0, :30, :41].eq(-123.675 / 58.395).all()

    both = build_preprocessor(train_mode='both')
    both.restorer = RedToZero()
    data = det_batch()
    out = both(data, training=True)
    assert out['inputs'].shape[0] == 4 and len(out['data_samples']) == 4
    torch.testing.assert_close(out['inputs'][:2], plain(det_batch(), training=True)['inputs'])
    assert out['inputs'][2:, 0, :30, :41].eq(-123.675 / 58.395).all()
    assert out['data_samples'][2] is not out['data_samples'][0]
    torch.testing.assert_close(out['data_samples'][2].gt_instances.bboxes,
                               out['data_samples'][0].gt_instances.bboxes)
    assert both(det_batch(), training=False)['inputs'].shape[0] == 2  # test: restored only
    with pytest.raises(ValueError, match='train_mode'):
        build_preprocessor(train_mode='enhanced')
    with pytest.raises(ValueError, match='freeze=False'):
        build_preprocessor(train_mode='raw', freeze=False)


def test_regulariser_reaches_the_loss_dict_and_trains_the_restorer():
    model = _tiny_rtmdet(freeze=False, reg_weight=0.5)
    pre = model.data_preprocessor
    assert all(not p.requires_grad for p in pre.restorer_init.parameters())
    _off_identity(pre)  # now it differs from its initial copy (the identity)
    attach_restorer_losses(model)
    model.train()
    losses = model(**pre(det_batch(), training=True), mode='loss')
    assert float(losses['restorer.loss_reg']) > 0
    loss, _ = model.parse_losses(losses)
    loss.backward()
    assert all(p.grad is not None for p in pre.restorer.parameters())
    # without the hook the loss would be lost: the next batch says so
    pre(det_batch(), training=True)
    with pytest.raises(RuntimeError, match='RestorerLossHook'):
        pre(det_batch(), training=True)
    with pytest.raises(ValueError, match='reg_weight'):
        build_preprocessor(reg_weight=0.1)  # frozen
    with pytest.raises(TypeError, match='UniRemovalPreprocessor'):
        attach_restorer_losses(torch.nn.Linear(1, 1))


def test_restorer_runs_in_float32_under_autocast():
    pre = build_preprocessor()
    pre.restorer = RedToZero()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        restored = pre.restore(det_batch()['inputs'])
    assert all(x.dtype == torch.float32 for x in pre.restorer.seen)
    assert all(r.dtype == torch.float32 and torch.isfinite(r).all() for r in restored)
    assert all(0 <= float(r.min()) and float(r.max()) <= 255 for r in restored)


def test_tiled_restoration_matches_whole_for_a_pointwise_restorer():
    whole, tiled = build_preprocessor(), build_preprocessor(tile=dict(size=16, overlap=4))
    conv = torch.nn.Conv2d(3, 3, 1)
    whole.restorer = tiled.restorer = conv
    a, b = whole.restore(det_batch()['inputs']), tiled.restore(det_batch()['inputs'])
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, atol=1e-3, rtol=0)
    for bad in (dict(size=8, overlap=0), dict(size=64, overlap=33), dict(size=64.5),
                dict(overlap=4), dict(size=64, stride=8), dict(size=64, overlap=-1)):
        with pytest.raises(ValueError, match='data_preprocessor.tile'):
            build_preprocessor(tile=bad)
    # the rule of uniremoval_mm.models.tiling.check_overlap, at its boundary
    assert build_preprocessor(tile=dict(size=65, overlap=32)).tile == dict(size=65, overlap=32)
    with pytest.raises(ValueError, match=r'^data_preprocessor.tile.overlap \(33\) must be at '
                       r'most 32 for data_preprocessor.tile.size 65: half a tile$'):
        build_preprocessor(tile=dict(size=65, overlap=33))


def test_normalisation_settings_a_detector_cannot_want():
    with pytest.raises(ValueError, match='data_preprocessor.mean'):
        _build_raw(mean=[0.485, 0.456, 0.406], std=[58.395, 57.12, 57.375])
    with pytest.warns(UserWarning, match='bgr_to_rgb'):  # RGB statistics on BGR images
        _build_raw(mean=DET_PREPROCESS['mean'], std=DET_PREPROCESS['std'], bgr_to_rgb=False)
    with pytest.warns(UserWarning, match='bgr_to_rgb'):
        _build_raw(mean=DET_PREPROCESS['mean'], std=DET_PREPROCESS['std'], bgr_to_rgb=True,
                   input_channel_order='rgb')
    _build_raw(mean=[103.53, 116.28, 123.675], std=[1.0, 1.0, 1.0], bgr_to_rgb=False)  # caffe
    _build_raw(mean=[0, 0, 0], std=[1, 1, 1])  # YOLOX-style: no warning, no error


def _build_raw(**kwargs):
    import warnings
    with DefaultScope.overwrite_default_scope('mmdet'), warnings.catch_warnings():
        if 'bgr_to_rgb' not in kwargs or kwargs['bgr_to_rgb'] is True and \
                kwargs.get('input_channel_order', 'bgr') == 'bgr':
            warnings.simplefilter('error')  # a consistent setting must not warn
        return MODELS.build(dict(type='UniRemovalPreprocessor', restorer=TINY_RESTORER, **kwargs))


def test_keep_restored_stores_the_cropped_image_at_test_time():
    pre = build_preprocessor(keep_restored=True)
    out = pre(det_batch(), training=False)
    assert out['data_samples'][1].restored_img.shape == (3, 30, 41)
    assert out['data_samples'][1].restored_img.dtype == torch.uint8
    assert 'restored_img' not in pre(det_batch(), training=True)['data_samples'][0]
    # mmdet's Pad transform (RTMDet / YOLOX test pipelines) sets img_shape to the padded
    # size: the stored image is still only the content, ori_shape x scale_factor
    data = det_batch(sizes=((40, 64), (40, 64)))
    data['data_samples'][1].set_metainfo(dict(ori_shape=(15, 20), scale_factor=(2.0, 2.0)))
    assert pre(data, training=False)['data_samples'][1].restored_img.shape == (3, 30, 40)


def test_a_plain_detector_checkpoint_loads(tmp_path):
    """Only the restorer's keys are missing, and they keep restorer_checkpoint's weights."""
    from mmengine.runner.checkpoint import load_checkpoint
    plain = _tiny_rtmdet()
    plain.data_preprocessor = DetDataPreprocessor(**DET_PREPROCESS)
    torch.nn.init.constant_(plain.bbox_head.rtm_cls[0].bias, 0.123)
    det_ckpt = tmp_path / 'detector.pth'
    torch.save({'state_dict': plain.state_dict(), 'meta': {}}, det_ckpt)
    restorer = MODELS.build(dict(TINY_RESTORER, zero_init_tail=False))
    torch.save(restorer.state_dict(), tmp_path / 'restorer.pth')

    ours = _tiny_rtmdet(restorer_checkpoint=str(tmp_path / 'restorer.pth'))
    missing = set(ours.state_dict()) - set(plain.state_dict())
    assert missing and all(k.startswith('data_preprocessor.restorer.') for k in missing)
    load_checkpoint(ours, str(det_ckpt), map_location='cpu', strict=False)
    torch.testing.assert_close(ours.bbox_head.rtm_cls[0].bias,
                               torch.full_like(ours.bbox_head.rtm_cls[0].bias, 0.123))
    torch.testing.assert_close(ours.data_preprocessor.restorer.tail.weight,
                               restorer.tail.weight)


def _trained_like(pre, std=0.05):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in pre.restorer.parameters():
            p.add_(torch.randn_like(p) * std)
    return pre


def _slow_restore(pre, inputs):
    """``restore`` through the generic path: /255, flip, net, clamp, flip, x255."""
    fast = type(pre)._fast
    try:
        type(pre)._fast = lambda self, img: False
        return pre.restore(inputs)
    finally:
        type(pre)._fast = fast


@pytest.mark.parametrize('order', ['bgr', 'rgb'])
def test_folded_restoration_equals_the_generic_one(order):
    """The scaling, channel flips and clamp folded into the head and tail of a frozen
    UniRemovalNet give the generic path's result; mixed sizes, odd sizes."""
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # rgb input with bgr_to_rgb=True: restore() only
        pre = _trained_like(build_preprocessor(input_channel_order=order, restorer_dtype='float32'))
    inputs = det_batch(sizes=((37, 53), (30, 41), (1, 1)))['inputs']
    with torch.no_grad():
        fast, slow = pre.restore(inputs), _slow_restore(pre, inputs)
    assert [f.shape for f in fast] == [i.shape for i in inputs]
    for f, s in zip(fast, slow):
        torch.testing.assert_close(f, s, atol=2e-3, rtol=0)  # 0-255 scale
        assert f.dtype == torch.float32 and 0 <= float(f.min()) and float(f.max()) <= 255


def test_restorer_dtype_bfloat16_stays_close_and_training_stays_float32():
    inputs = det_batch()['inputs']
    fp32 = _trained_like(build_preprocessor(restorer_dtype='float32'))
    bf16 = _trained_like(build_preprocessor(restorer_dtype='bfloat16'))
    tiled = _trained_like(build_preprocessor(restorer_dtype='bfloat16',
                                             tile=dict(size=16, overlap=4)))
    with torch.no_grad():
        ref, out = fp32.restore(inputs), bf16.restore(inputs)
        tiled_out = tiled.restore(inputs)  # tiled: the fused form (dtype=bf16) on each tile
    for r, o, t in zip(ref, out, tiled_out):
        assert 0 < float((o - r).abs().max()) < 2.0  # bf16 differs, by little (0-255)
        assert torch.isfinite(t).all() and t.shape == r.shape
    # joint fine-tuning: gradients, in float32, whatever restorer_dtype says
    joint = build_preprocessor(freeze=False, restorer_dtype='bfloat16').train()
    _off_identity(joint)
    seen = []
    joint.restorer.register_forward_hook(lambda m, a, y: seen.append(y.dtype))
    joint(det_batch(), training=True)['inputs'].square().mean().backward()
    assert seen and all(d == torch.float32 for d in seen)
    assert all(p.grad is not None for p in joint.restorer.parameters())
    with pytest.raises(ValueError, match='restorer_dtype'):
        build_preprocessor(restorer_dtype='float16')


def test_restorer_dtype_for_other_restorers():
    """bfloat16: autocast for restorers other than UniRemovalNet; auto keeps them
    float32 (bf16 only for a UniRemovalNet on a CPU with native bf16)."""
    from uniremoval_mm.models.data_preprocessors import uniremoval_preprocessor as module

    class Probe(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.autocast = []

        def forward(self, x):
            self.autocast.append(torch.is_autocast_enabled('cpu'))
            return x

    for dtype, expected in (('bfloat16', True), ('auto', False), ('float32', False)):
        pre = build_preprocessor(restorer_dtype=dtype)
        pre.restorer = Probe()
        with torch.no_grad():
            pre.restore(det_batch()['inputs'])
        assert pre.restorer.autocast == [expected] * 2
    pre = build_preprocessor()
    assert pre.restorer_dtype == 'auto'
    assert pre._bf16(torch.zeros(1)) == module._cpu_bf16()
    assert not build_preprocessor(fused_inference=False)._bf16(torch.zeros(1))


def test_fused_inference_is_chosen_by_the_option_and_changes_no_state(monkeypatch):
    """fused_inference=True (default): a frozen UniRemovalNet restores through its fused
    form, whole or tiled; False: through the network itself. The state is the same."""
    from uniremoval_mm.models import FusedUniRemovalNet
    calls = []
    forward = FusedUniRemovalNet.forward
    monkeypatch.setattr(FusedUniRemovalNet, 'forward',
                        lambda self, *a, **k: calls.append(1) or forward(self, *a, **k))
    inputs = det_batch()['inputs']
    fused = _trained_like(build_preprocessor(restorer_dtype='float32'))
    tiled = _trained_like(build_preprocessor(restorer_dtype='float32',
                                             tile=dict(size=16, overlap=4)))
    plain = _trained_like(build_preprocessor(restorer_dtype='float32', fused_inference=False))
    assert fused.state_dict().keys() == plain.state_dict().keys()
    with torch.no_grad():
        ref = plain.restore(inputs)
        assert not calls
        out = fused.restore(inputs)
        assert len(calls) == len(inputs)
        tiled.restore(inputs)
        assert len(calls) > 2 * len(inputs)  # one call per tile
    for r, o in zip(ref, out):
        torch.testing.assert_close(o, r, atol=2e-3, rtol=0)  # 0-255 scale


@pytest.mark.parametrize('order', ['bgr', 'rgb'])
def test_border_mirrors_each_image_in_both_paths(order):
    """``border``: each image is restored mirrored outwards and cropped back, in the
    folded fast path and the generic one alike; the edges change, the size does not."""
    from uniremoval_mm.apis import bordered_forward
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        plain = _trained_like(build_preprocessor(input_channel_order=order,
                                                 restorer_dtype='float32'))
        mirrored = _trained_like(build_preprocessor(input_channel_order=order,
                                                    restorer_dtype='float32', border=4))
    inputs = det_batch(sizes=((37, 53), (3, 5)))['inputs']  # the second: smaller than 2x4
    with torch.no_grad():
        fast, slow, before = mirrored.restore(inputs), _slow_restore(mirrored, inputs), \
            plain.restore(inputs)
        x = inputs[0].float()[None] / 255
        x = x.flip(1) if order == 'bgr' else x
        ref = bordered_forward(mirrored.restorer, x, 4).clamp(0, 1)
        ref = (ref.flip(1) if order == 'bgr' else ref)[0] * 255
    assert [f.shape for f in fast] == [s.shape for s in slow] == [i.shape for i in inputs]
    for f, s in zip(fast, slow):
        torch.testing.assert_close(f, s, atol=2e-3, rtol=0)
    torch.testing.assert_close(slow[0], ref, atol=1e-3, rtol=0)
    assert not torch.allclose(fast[0][:, 0], before[0][:, 0], atol=0.5)  # the top edge


def test_border_in_joint_training_passes_gradients_and_refuses_bad_values():
    pre = build_preprocessor(freeze=False, border=8)
    _off_identity(pre)
    pre.train()
    out = pre.restore(det_batch(sizes=((19, 27), ))['inputs'])
    assert out[0].shape == (3, 19, 27)
    out[0].mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in pre.restorer.parameters())
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match='border must be an int >= 0'):
            build_preprocessor(border=bad)
