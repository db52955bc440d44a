"""The pinned OpenMMLab stack works on CPU and our package plugs into it."""
import pytest
import torch
from mmengine.config import Config
from mmengine.hub import get_config


def test_package_registers_into_host_registries():
    import mmagic.models  # noqa: F401
    import mmdet.models  # noqa: F401
    from mmagic.registry import MODELS as MMAGIC_MODELS
    from mmdet.registry import MODELS as MMDET_MODELS

    import uniremoval_mm
    from uniremoval_mm.models import UniRemovalNet
    assert uniremoval_mm.__version__
    assert MMAGIC_MODELS.get('UniRemovalNet') is UniRemovalNet
    # reachable from an mmdet-scoped config through the scope prefix
    net = MMDET_MODELS.build(dict(type='mmagic.UniRemovalNetT'))
    assert isinstance(net, UniRemovalNet)


def test_custom_imports_in_a_config(tmp_path):
    from mmengine.registry import DefaultScope
    cfg_file = tmp_path / 'cfg.py'
    cfg_file.write_text("custom_imports = dict(imports=['uniremoval_mm'], "
                        "allow_failed_imports=False)\n"
                        "model = dict(type='UniRemovalNet', width=8, enc_blocks=(1,), "
                        "middle_blocks=1)\n")
    cfg = Config.fromfile(str(cfg_file))
    from mmagic.registry import MODELS
    with DefaultScope.overwrite_default_scope('mmagic'):
        net = MODELS.build(cfg.model)
    assert net.width == 8


@pytest.fixture(scope='module')
def faster_rcnn():
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    cfg = get_config('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py')
    cfg.model.backbone.init_cfg = None  # ImageNet weights would be a download
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _batch(model, sizes, with_boxes=True):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8))
        sample = DetDataSample(metainfo=dict(
            img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0), pad_shape=(h, w)))
        if with_boxes:
            sample.gt_instances = InstanceData(
                bboxes=torch.tensor([[5.0, 7.0, w / 2, h / 2 + 3]]),
                labels=torch.tensor([3]))
        samples.append(sample)
    return model.data_preprocessor(dict(inputs=inputs, data_samples=samples), training=True)


def test_faster_rcnn_from_mmdet_config_loss_and_predict(faster_rcnn):
    model = faster_rcnn
    model.train()
    data = _batch(model, [(97, 131), (120, 75)])  # odd sizes: padded to 32 by the config
    losses = model(**data, mode='loss')
    for key in ('loss_rpn_cls', 'loss_rpn_bbox', 'loss_cls', 'loss_bbox'):
        assert key in losses
    total = sum(v if isinstance(v, torch.Tensor) else sum(v) for k, v in losses.items()
                if k.startswith('loss'))
    assert torch.isfinite(total)
    total.backward()
    grads = [p.grad for p in model.backbone.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)

    model.eval()
    with torch.no_grad():
        results = model(**_batch(model, [(97, 131)]), mode='predict')
    pred = results[0].pred_instances
    assert pred.bboxes.shape[1] == 4 and len(pred.bboxes) == len(pred.scores)
    if len(pred):  # boxes live inside the image they were predicted for
        assert float(pred.bboxes[:, 2].max()) <= 131 + 1e-3
        assert float(pred.bboxes[:, 3].max()) <= 97 + 1e-3


def test_mmcv_compiled_ops_run_on_cpu():
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), iou_threshold=0.5)
    assert keep.tolist() == [0, 2]
    feat = torch.arange(16.).view(1, 1, 4, 4)
    roi = torch.tensor([[0., 0., 0., 3., 3.]])
    out = RoIAlign((1, 1), spatial_scale=1.0, sampling_ratio=1, aligned=False)(feat, roi)
    assert torch.allclose(out, torch.tensor(7.5))  # centre of the 4x4 ramp


def test_mmagic_models_import_and_run():
    from mmagic.registry import MODELS
    from mmagic.utils import register_all_modules
    register_all_modules()
    net = MODELS.build(dict(type='NAFNetLocal', img_channels=3, mid_channels=8,
                            middle_blk_num=1, enc_blk_nums=[1], dec_blk_nums=[1]))
    x = torch.rand(1, 3, 33, 47)
    assert net(x).shape == x.shape
