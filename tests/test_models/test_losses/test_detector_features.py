"""DetectorFeatureExtractor: a frozen mmdet detector's features, and IGCL on them.

Two tiny detectors made here, with random weights saved to a checkpoint: a Faster R-CNN
(ResNet-18 + FPN; RGB mean, ``bgr_to_rgb=True``) and an RTMDet-tiny (the demo detector's
architecture; BGR mean, no flip), both padding to multiples of 32.
"""
import copy
from pathlib import Path

import pytest
import torch
from mmengine.model import BaseModule
from torch import nn

from uniremoval_mm.models import DetectorFeatureExtractor, IGCLLoss, UniRemovalNetT
from uniremoval_mm.utils.checkpoint import CheckpointError

DETECTORS = {
    'faster_rcnn': '''
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
model = dict(backbone=dict(depth=18, init_cfg=None),
             neck=dict(in_channels=[64, 128, 256, 512], out_channels=32),
             rpn_head=dict(in_channels=32, feat_channels=32),
             roi_head=dict(bbox_roi_extractor=dict(out_channels=32),
                           bbox_head=dict(in_channels=32, fc_out_channels=64, num_classes=2)))
''',
    'rtmdet': '''
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
model = dict(data_preprocessor=dict(pad_size_divisor=32), backbone=dict(init_cfg=None),
             bbox_head=dict(num_classes=3))
''',
}
BACKBONE_OUTPUTS = dict(faster_rcnn=4, rtmdet=3)
NECK_OUTPUTS = dict(faster_rcnn=5, rtmdet=3)


def _build_detector(config: str):
    from mmdet.registry import MODELS
    from mmengine.config import Config
    return MODELS.build(dict(Config.fromfile(config).model, _scope_='mmdet'))


@pytest.fixture(scope='module', params=sorted(DETECTORS))
def detector(request, tmp_path_factory):
    """(name, config path, checkpoint path) of a tiny detector with random weights (and
    random BN statistics, so that eval and train mode differ)."""
    import uniremoval_mm  # noqa: F401  (shims, registries)
    name = request.param
    root = tmp_path_factory.mktemp(name)
    config = root / f'{name}.py'
    config.write_text(DETECTORS[name])
    torch.manual_seed(0)
    det = _build_detector(str(config))
    for m in det.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
    checkpoint = root / 'detector.pth'
    torch.save(dict(meta=dict(epoch=1), state_dict=det.state_dict()), checkpoint)
    return name, str(config), str(checkpoint)


def _extractor(detector, **kwargs) -> DetectorFeatureExtractor:
    _, config, checkpoint = detector
    return DetectorFeatureExtractor(config=config, checkpoint=checkpoint, **kwargs)


def _images(n=2, h=37, w=53, seed=0):
    g = torch.Generator().manual_seed(seed)
    clean = torch.rand(n, 3, h, w, generator=g)
    degraded = (clean * 0.6 + 0.3 + 0.05 * torch.randn(n, 3, h, w, generator=g)).clamp(0, 1)
    return clean, degraded


def test_taps_on_odd_sizes_and_selection(detector):
    name = detector[0]
    ext = _extractor(detector, use_neck=True)
    x = _images(1, 37, 53)[0]
    out, taps = ext(x, return_features=True)
    assert out is x  # the extractor restores nothing
    expected = {f'backbone.{k}' for k in range(BACKBONE_OUTPUTS[name])}
    expected |= {f'neck.{k}' for k in range(NECK_OUTPUTS[name])}
    assert set(taps) == expected
    # padded to 64 x 64 (multiple of 32); the first backbone output is at stride 4 or 8
    assert taps['backbone.0'].shape[-2:] in ((16, 16), (8, 8))
    assert all(torch.isfinite(f).all() for f in taps.values())
    chosen = _extractor(detector, use_neck=True, taps=('neck.1', 'backbone.0'))
    _, some = chosen(x, return_features=True)
    assert list(some) == ['neck.1', 'backbone.0']
    torch.testing.assert_close(some['neck.1'], taps['neck.1'])
    backbone_only = _extractor(detector)
    assert backbone_only.neck is None
    assert set(backbone_only(x, return_features=True)[1]) == {
        t for t in expected if t.startswith('backbone.')}


def test_conversion_matches_the_detectors_own_data_preprocessor(detector):
    """Restorer-space RGB [0, 1] through the extractor == the pipeline's uint8 BGR image
    through the detector's own data_preprocessor and backbone."""
    _, config, checkpoint = detector
    from uniremoval_mm.utils.checkpoint import load_weights
    det = _build_detector(config)
    load_weights(det, checkpoint, dict(select_prefix=None))
    det.eval()
    g = torch.Generator().manual_seed(1)
    bgr = torch.randint(0, 256, (3, 37, 53), generator=g, dtype=torch.uint8)  # as loaded
    with torch.no_grad():
        batch = det.data_preprocessor(dict(inputs=[bgr]), False)['inputs']
        want = det.backbone(batch)
        rgb01 = bgr.flip(0).float().div(255)[None]
        ext = _extractor(detector)
        torch.testing.assert_close(ext.preprocess(rgb01), batch, rtol=0, atol=1e-4)
        got = ext(rgb01, return_features=True)[1]
        assert len(got) == len(want)
        for k, w in enumerate(want):
            torch.testing.assert_close(got[f'backbone.{k}'], w, rtol=1e-4, atol=1e-4)
        # the check can fail: the wrong channel order gives other features
        wrong = _extractor(detector, input_channel_order='rgb')
        assert not torch.allclose(wrong(rgb01, return_features=True)[1]['backbone.0'],
                                  want[0], atol=1e-3)


def test_frozen_eval_mode_and_parents_cannot_reinitialise(detector):
    ext = _extractor(detector, use_neck=True)
    assert all(not p.requires_grad for p in ext.parameters())
    ext.train()
    bns = [m for m in ext.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert bns and not any(m.training for m in ext.modules())
    loss = IGCLLoss(views=(), extractor=ext, layers=('backbone.0', 'neck.0'))
    loss.train()
    assert not any(m.training for m in loss.extractor.modules())
    # mmengine's BaseModule.init_weights() calls its children's: it must not touch ours
    before = copy.deepcopy(ext.state_dict())

    class Parent(BaseModule):

        def __init__(self):
            super().__init__()
            self.ext = ext

    Parent().init_weights()
    after = ext.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    # no checkpoint keys of ours: only the detector's (mean/std are not saved)
    assert not {'mean', 'std'} & set(after)


def test_gradient_reaches_the_restorer_only_and_the_detector_stays_bit_identical(detector):
    """A restorer in front of IGCL on the detector's features: SGD with momentum and
    weight decay over ALL parameters of the combined module, two steps, train mode."""
    torch.manual_seed(0)
    layers = ('backbone.0', 'backbone.1', 'neck.0')
    igcl = IGCLLoss(views=(), layers=layers,
                    extractor=dict(type='DetectorFeatureExtractor', config=detector[1],
                                   checkpoint=detector[2], use_neck=True, taps=layers))
    restorer = UniRemovalNetT()
    with torch.no_grad():  # past its identity start (zero-initialised residual scales),
        for p in restorer.parameters():  # where only its last conv would get a gradient
            p.add_(0.02 * torch.randn_like(p))
    model = nn.ModuleDict(dict(restorer=restorer, igcl=igcl))
    model.train()
    frozen_before = copy.deepcopy(igcl.extractor.state_dict())
    restorer_before = copy.deepcopy(model['restorer'].state_dict())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.1)
    clean, degraded = _images(2, 37, 53)
    for step in range(2):
        opt.zero_grad()
        restored = model['restorer'](degraded)
        loss = igcl(restored, clean, degraded)
        assert torch.isfinite(loss) and loss > 0
        loss.backward()
        if step == 0:
            grads = [p.grad for p in model['restorer'].parameters()]
            assert all(g is not None and torch.isfinite(g).all() for g in grads)
            assert sum(g.abs().sum() for g in grads) > 0
            assert all(g.abs().sum() > 0 for g in grads)  # every restorer parameter
            assert all(p.grad is None for p in igcl.extractor.parameters())
        opt.step()
    after = igcl.extractor.state_dict()
    assert frozen_before.keys() == after.keys()
    assert all(torch.equal(frozen_before[k], after[k]) for k in after)  # BN buffers too
    assert not any(m.training for m in igcl.extractor.modules())
    changed = model['restorer'].state_dict()
    assert any(not torch.equal(restorer_before[k], changed[k]) for k in changed)


def test_igcl_on_detector_features_prefers_the_clean_image(detector):
    ext = _extractor(detector, use_neck=True)
    loss = IGCLLoss(views=(), extractor=ext, layers=('backbone.1', 'neck.0'),
                    batch_negative_weight=0.0)
    clean, degraded = _images(2, 37, 53)
    assert loss(clean, clean, degraded) == 0
    near_clean = loss(0.9 * clean + 0.1 * degraded, clean, degraded)
    near_input = loss(0.1 * clean + 0.9 * degraded, clean, degraded)
    assert near_clean < near_input


def test_invalid_arguments(detector, tmp_path):
    with pytest.raises(ValueError, match='use_neck'):
        _extractor(detector, taps=('neck.0', ))
    with pytest.raises(ValueError, match='backbone.k'):
        _extractor(detector, taps=('head.0', ))
    with pytest.raises(ValueError, match='input_channel_order'):
        _extractor(detector, input_channel_order='yuv')
    beyond = _extractor(detector, taps=('backbone.9', ))
    with pytest.raises(KeyError, match='backbone.9'):
        beyond(_images(1, 32, 32)[0], return_features=True)
    with pytest.raises(ValueError, match='N, 3, H, W'):
        _extractor(detector)(torch.rand(1, 1, 32, 32), return_features=True)
    bad = tmp_path / 'bad.pth'
    torch.save(dict(state_dict={'backbone.nothing': torch.zeros(1)}), bad)
    with pytest.raises(CheckpointError, match='keys do not match'):
        DetectorFeatureExtractor(config=detector[1], checkpoint=str(bad))


def test_checkpoint_weights_are_loaded(detector):
    _, config, checkpoint = detector
    saved = torch.load(checkpoint, weights_only=True)['state_dict']
    ext = _extractor(detector, use_neck=True)
    mine = ext.state_dict()
    assert mine and all(torch.equal(v, saved[k]) for k, v in mine.items())
    assert not [k for k in mine if k.startswith(('bbox_head', 'rpn_head', 'roi_head'))]
    assert Path(checkpoint).is_file()


def test_clean_identity_in_detector_features(detector):
    """IGCLLoss.identity: 0 where restoring a clean image leaves the detector's features
    alone, Σ w_l where it moves them as far as the degradation does; the restorer learns."""
    layers = ('backbone.1', 'neck.0')
    loss = IGCLLoss(views=(), extractor=_extractor(detector, use_neck=True), layers=layers,
                    layer_weights=(1.0, 1.0))
    clean, degraded = _images(2, 37, 53)
    assert loss.identity(clean, clean, degraded) == 0
    torch.testing.assert_close(loss.identity(degraded, clean, degraded), torch.tensor(2.0),
                               rtol=1e-3, atol=0)  # up to ε
    assert 0 < loss.identity(0.8 * clean + 0.2 * degraded, clean, degraded) < 2
    torch.manual_seed(0)
    restorer = UniRemovalNetT()
    with torch.no_grad():
        for p in restorer.parameters():
            p.add_(0.02 * torch.randn_like(p))
    value = loss.identity(restorer(clean), clean, degraded)
    value.backward()
    assert value > 0 and all(p.grad is not None for p in restorer.parameters())
    assert all(p.grad is None for p in loss.extractor.parameters())
    with pytest.raises(ValueError, match='same shape'):
        loss.identity(clean[:1], clean, degraded)
