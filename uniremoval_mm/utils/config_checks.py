"""Config mistakes found before anything is built, and the one home of the normalisation
checks.

The whole-config checks (``tools/train.py`` / ``tools/test.py``, through
:func:`check_config`) each raise a one-line
:class:`~uniremoval_mm.utils.errors.UsageError` naming the config field. What a single
module can check is checked where it is built (the distiller's teacher types, a
dataset's crop size); what needs two parts of the config at once is here:

* the detector pre-processor's ``mean`` / ``std`` / channel order against what the
  backbone's pretrained weights were trained with (``model.backbone.init_cfg``), for
  the weight families whose statistics are known;
* the stage-2 training crop against the discriminator's smallest input.

The pre-processor's own mean/std/channel-order arguments are checked here too
(:func:`check_preprocessor_normalisation`, run when it is built, raising ``ValueError``),
with the same reading of which channel order the detector gets
(:func:`detector_channel_order`).
"""
import warnings
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
    seen = detector_channel_order(source, bool(pre.get('bgr_to_rgb')) or
                                  bool(pre.get('rgb_to_bgr')))
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


def detector_channel_order(source: str, flip: bool) -> str:
    """The channel order the detector gets: the pipeline's, flipped once if asked.

    Args:
        source (str): The pipeline's channel order, ``'bgr'`` or ``'rgb'``.
        flip (bool): Whether the pre-processor swaps the channels (``bgr_to_rgb`` or
            ``rgb_to_bgr``).

    Returns:
        str: ``'bgr'`` or ``'rgb'``.
    """
    return {'bgr': 'rgb', 'rgb': 'bgr'}[source] if flip else source


def check_preprocessor_normalisation(kwargs: dict, input_channel_order: str) -> None:
    """Catch pre-processor settings that cannot match what a detector expects.

    Run by :class:`~uniremoval_mm.models.UniRemovalPreprocessor` when it is built, on
    its own arguments. Errors (one line, naming the field): mean without std or std
    without mean; not 1 or 3 values, or different lengths; a std that is not > 0;
    mean/std on the 0-1 scale (mmdet normalises 0-255 images); ``bgr_to_rgb`` and
    ``rgb_to_bgr`` both set; ``pad_size_divisor`` < 1. Warnings: a channel flip that
    undoes ``input_channel_order='rgb'``, a mean whose order looks the other way round
    than the images the detector gets. (The mean/std a pretrained backbone expects needs
    the whole config: :func:`check_detector_normalisation`.)

    Args:
        kwargs (dict): The pre-processor's ``DetDataPreprocessor`` arguments (``mean``,
            ``std``, ``bgr_to_rgb``, ``rgb_to_bgr``, ``pad_size_divisor``).
        input_channel_order (str): The pipeline's channel order, ``'bgr'`` or ``'rgb'``.

    Raises:
        ValueError: If the settings cannot work.
    """
    mean, std = kwargs.get('mean'), kwargs.get('std')
    if (mean is None) != (std is None):
        raise ValueError(f'data_preprocessor.mean={mean} and data_preprocessor.std={std}: '
                         'give both (the detector normalises with them) or neither')
    if mean is not None:
        if len(mean) not in (1, 3) or len(std) != len(mean):
            raise ValueError(f'data_preprocessor.mean ({len(mean)} values) and .std '
                             f'({len(std)} values) need 3 values each (or 1 each)')
        if any(float(v) <= 0 for v in std):
            raise ValueError(f'data_preprocessor.std={list(std)}: every value must be > 0')
    if kwargs.get('bgr_to_rgb') and kwargs.get('rgb_to_bgr'):
        raise ValueError('data_preprocessor.bgr_to_rgb and data_preprocessor.rgb_to_bgr are '
                         'both True: set at most one')
    divisor = kwargs.get('pad_size_divisor', 1)
    if not isinstance(divisor, int) or divisor < 1:
        raise ValueError(f'data_preprocessor.pad_size_divisor must be an int >= 1, got '
                         f'{divisor!r}')
    for name, limit in (('mean', 1.0), ('std', 0.999)):  # std 1 (caffe style) is fine
        values = kwargs.get(name)
        if values is not None and max(abs(float(v)) for v in values) <= limit \
                and any(float(v) != 0 for v in values):
            raise ValueError(
                f'data_preprocessor.{name}={list(values)} is on the 0-1 scale, but mmdet '
                'normalises 0-255 images (e.g. mean=[123.675, 116.28, 103.53]); the '
                'restorer\'s 0-1 range is internal')
    if kwargs.get('bgr_to_rgb') and input_channel_order == 'rgb':
        warnings.warn("data_preprocessor.bgr_to_rgb=True with input_channel_order='rgb' "
                      'turns the RGB images into BGR before normalisation: set one of them '
                      'to match your pipeline')
    elif mean is not None and len(mean) == 3 and not kwargs.get('rgb_to_bgr'):
        seen = detector_channel_order(input_channel_order, bool(kwargs.get('bgr_to_rgb')))
        # ImageNet / COCO statistics fall from red to blue: in BGR order they rise
        looks = 'rgb' if mean[0] > mean[1] > mean[2] else 'bgr' if mean[0] < mean[1] < mean[
            2] else None
        if looks is not None and looks != seen:
            warnings.warn(f'data_preprocessor.mean={list(mean)} looks {looks.upper()}-ordered '
                          f'but the detector gets {seen.upper()} images (input_channel_order='
                          f"'{input_channel_order}', bgr_to_rgb={bool(kwargs.get('bgr_to_rgb'))})"
                          ': check bgr_to_rgb')


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
