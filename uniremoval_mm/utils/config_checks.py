"""Config mistakes found before anything is built (``tools/train.py`` / ``tools/test.py``).

Each check raises a one-line :class:`~uniremoval_mm.utils.errors.UsageError` naming the
config field. What a single module can check is checked where it is built (the
pre-processor's mean/std lengths and scale, the distiller's teacher types, a dataset's
crop size); what needs two parts of the config at once is here:

* the detector pre-processor's ``mean`` / ``std`` / channel order against what the
  backbone's pretrained weights were trained with (``model.backbone.init_cfg``), for
  the weight families whose statistics are known;
* the stage-2 training crop against the discriminator's smallest input.
"""
from typing import Iterator, List, Optional, Sequence, Tuple

from .errors import UsageError

IMAGENET_RGB = ([123.675, 116.28, 103.53], [58.395, 57.12, 57.375])
#: (pattern in the checkpoint path, channel order the weights expect, mean, std) in that
#: order. torchvision / mmpretrain ImageNet weights take RGB; Detectron's caffe-style
#: weights take BGR with std 1; mmdet's CSPNeXt (RTMDet) weights take BGR.
PRETRAINED_NORMALISATION = (
    ('torchvision://', 'rgb', *IMAGENET_RGB),
    ('open-mmlab://detectron2/', 'bgr', [103.53, 116.28, 123.675], [1.0, 1.0, 1.0]),
    ('caffe', 'bgr', [103.53, 116.28, 123.675], [1.0, 1.0, 1.0]),
    ('cspnext', 'bgr', [103.53, 116.28, 123.675], [57.375, 57.12, 58.395]),
)
DETECTOR_PREPROCESSORS = ('DetDataPreprocessor', 'UniRemovalPreprocessor')


def check_config(cfg) -> None:
    """Run every whole-config check.

    Args:
        cfg (mmengine.Config): A merged config.

    Raises:
        UsageError: One line naming the field.
    """
    check_detector_normalisation(cfg)
    check_discriminator_crop(cfg)


def _backbone_checkpoint(model: dict) -> Optional[str]:
    init = (model.get('backbone') or {}).get('init_cfg') or {}
    if isinstance(init, dict) and init.get('type') == 'Pretrained':
        return str(init.get('checkpoint', ''))
    return None


def check_detector_normalisation(cfg) -> None:
    """The detector's normalisation must be what its pretrained backbone expects.

    Applies where ``model.data_preprocessor`` is mmdet's or ours and the backbone
    starts from a checkpoint of a known family (:data:`PRETRAINED_NORMALISATION`).
    The commonest way to break it: replacing the detector's pre-processor with
    ``_delete_=True`` drops the inherited ``mean`` / ``std`` / ``bgr_to_rgb``.

    Args:
        cfg (mmengine.Config): A merged config.

    Raises:
        UsageError: If mean, std or the channel order disagree.
    """
    model = cfg.get('model') or {}
    pre = model.get('data_preprocessor') or {}
    kind = str(pre.get('type', '')).split('.')[-1]
    checkpoint = _backbone_checkpoint(model)
    if kind not in DETECTOR_PREPROCESSORS or not checkpoint:
        return
    for pattern, order, mean, std in PRETRAINED_NORMALISATION:
        if pattern in checkpoint:
            break
    else:
        return
    given_mean, given_std = pre.get('mean'), pre.get('std')
    source = pre.get('input_channel_order', 'bgr') if kind == 'UniRemovalPreprocessor' \
        else 'bgr'  # mmdet's LoadImageFromFile gives BGR
    flip = bool(pre.get('bgr_to_rgb')) or bool(pre.get('rgb_to_bgr'))
    seen = {'bgr': 'rgb', 'rgb': 'bgr'}[source] if flip else source
    want = f'mean={mean}, std={std} on {order.upper()} images'
    if given_mean is None or given_std is None:
        raise UsageError(f'model.data_preprocessor.mean/std are not set, but the backbone\'s '
                         f'weights ({checkpoint}) expect {want} (a _delete_=True pre-processor '
                         'drops the detector\'s own: copy them in)')
    if seen != order:
        raise UsageError(
            f'model.data_preprocessor gives the detector {seen.upper()} images '
            f"(input_channel_order='{source}', bgr_to_rgb={pre.get('bgr_to_rgb', False)}) but "
            f'the backbone\'s weights ({checkpoint}) expect {order.upper()}: fix bgr_to_rgb')
    for name, given, expected in (('mean', given_mean, mean), ('std', given_std, std)):
        if len(given) != 3 or any(abs(float(a) - b) > 1.0 for a, b in zip(given, expected)):
            raise UsageError(f'model.data_preprocessor.{name}={list(given)} but the backbone\'s '
                             f'weights ({checkpoint}) expect {want}')


def _dicts(node) -> Iterator[dict]:
    """Every dict inside a config node, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _dicts(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            yield from _dicts(value)


def _crop_sizes(node) -> List[Tuple[int, ...]]:
    sizes = []
    for d in _dicts(node):
        if d.get('type') == 'Crop' and 'crop_size' in d and not d.get('is_pad_zeros'):
            size = d['crop_size']
            sizes.append(tuple(size) if isinstance(size, Sequence) else (size, size))
    return sizes


def check_discriminator_crop(cfg) -> None:
    """Training crops must be large enough for the discriminator (stage 2).

    ``SNPatchDiscriminator`` with ``num_conv`` stride-2 convolutions needs at least
    ``3 * 2 ** num_conv`` pixels per side; a smaller crop would fail at the first step.

    Args:
        cfg (mmengine.Config): A merged config.

    Raises:
        UsageError: Naming the crop and ``model.discriminator.num_conv``.
    """
    disc = (cfg.get('model') or {}).get('discriminator') or {}
    if str(disc.get('type', '')).split('.')[-1] != 'SNPatchDiscriminator':
        return
    num_conv = int(disc.get('num_conv', 3))
    need = 3 * 2**num_conv
    for size in _crop_sizes(cfg.get('train_dataloader')):
        if min(size) < need:
            raise UsageError(
                f'train_dataloader: a Crop of crop_size={size} is smaller than the '
                f'{need}x{need} that model.discriminator.num_conv={num_conv} needs '
                f'(3 * 2 ** num_conv): crop larger or lower num_conv')
