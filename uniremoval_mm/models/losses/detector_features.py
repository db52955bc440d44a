"""DetectorFeatureExtractor: a frozen MMDetection detector's feature hierarchy, for losses.

The detection-aware objective (ours, beyond the paper; ``docs/method.md``): IGCL in the
feature space of the detector that will look at the restored images, so that the
restorer is pulled towards what the detector responds to in the clean image::

    igcl=dict(type='IGCLLoss', views=(),
              extractor=dict(type='DetectorFeatureExtractor',
                             config='configs/demo/rtmdet-tiny_demo-shapes.py',
                             checkpoint='work_dirs/demo/detector/epoch_12.pth',
                             use_neck=True, taps=('neck.0', 'neck.1', 'neck.2')),
              layers=('neck.0', 'neck.1', 'neck.2'))
"""
import re
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log
from mmengine.model import ImgDataPreprocessor
from torch import Tensor

from ...utils.checkpoint import load_weights
from ..utils import FrozenModule, freeze

TAP_PATTERN = re.compile(r'^(backbone|neck)\.(\d+)$')
#: Keyword arguments of ``remap_state_dict`` for an mmdet checkpoint: take its
#: ``state_dict`` as it is (no ``generator.`` selection), strip DataParallel's ``module.``.
DETECTOR_CONVERTER = dict(select_prefix=None, strip_prefixes=('module.', ))


def _detector_cfg(config: Union[str, dict]) -> dict:
    """The detector's model config from a config file, ``mmdet::`` path or dict."""
    if isinstance(config, str):
        from mmengine.hub import get_config
        config = get_config(config) if '::' in config else Config.fromfile(config)
    if isinstance(config, (Config, ConfigDict, dict)) and 'model' in config:
        config = config['model']
    if not isinstance(config, (dict, ConfigDict)) or 'type' not in config:
        raise ValueError('extractor.config must be an mmdet config (path, mmdet:: path or '
                         'dict with a model) or a detector model dict with a type')
    cfg = dict(config)
    cfg.setdefault('_scope_', 'mmdet')  # built in mmdet's registry, whatever scope we are in
    return cfg


@MODELS.register_module()
class DetectorFeatureExtractor(FrozenModule):
    """The frozen backbone (and neck) of an MMDetection detector, as a feature extractor.

    Images come in restorer space (RGB in [0, 1], (N, 3, H, W), any size) and are
    converted as the detector's own ``data_preprocessor`` converts the pipeline's images:
    scaled to 0-255 in the pipeline's channel order (``input_channel_order``), its
    channel flip (``bgr_to_rgb`` / ``rgb_to_bgr``), ``(x - mean) / std``, then padded
    right and bottom with its ``pad_value`` to a multiple of its ``pad_size_divisor``.
    The backbone (and the neck, with ``use_neck``) run on the result; the head is not
    kept. Taps are named ``backbone.k`` (the k-th output of the backbone, i.e. of its
    ``out_indices``) and ``neck.k`` (the k-th neck output).

    Every parameter is frozen (``requires_grad`` False) and the module stays in eval
    mode whatever ``train()`` is called with (BatchNorm statistics never change). It is a
    plain ``nn.Module`` (a :class:`~uniremoval_mm.models.utils.FrozenModule`), so a
    parent's ``BaseModule.init_weights()`` does not recurse into the detector (its
    ``init_cfg`` would overwrite the checkpoint). Autograd is left on: gradients flow
    through the detector to the input (the restorer's output), never into the detector.

    Args:
        config (str | dict): The detector: an mmdet config file, an ``mmdet::`` path,
            or a config dict (a full config with ``model``, or the model dict itself).
        checkpoint (str, optional): Path or URL of the detector's weights (an mmdet /
            mmengine checkpoint), loaded as data (``weights_only``; mmengine's logging
            types allowed) by :func:`~uniremoval_mm.utils.checkpoint.load_weights`.
            None keeps a randomly initialised detector (with a warning): for tests
            only. Defaults to None.
        converter (dict, optional): Keyword arguments of ``remap_state_dict`` for the
            checkpoint. Defaults to None (:data:`DETECTOR_CONVERTER`).
        strict (bool): Require the checkpoint's keys to match the detector. Defaults to
            True.
        use_neck (bool): Also run the neck (``neck.k`` taps). Defaults to False.
        taps (Sequence[str], optional): The taps to return, e.g. ``('backbone.1',
            'neck.0')``. Defaults to None (all outputs of the parts that run).
        input_channel_order (str): Channel order of the images the detector was trained
            on, before its ``data_preprocessor``: ``'bgr'`` (mmdet's
            ``LoadImageFromFile``) or ``'rgb'``. Defaults to ``'bgr'``.

    Raises:
        ValueError: For a malformed tap, a ``neck.k`` tap without ``use_neck``, a
            detector without a neck with ``use_neck``, or a ``data_preprocessor`` that is
            not an mmengine ``ImgDataPreprocessor`` (or is a restorer in front).
    """

    def __init__(self,
                 config: Union[str, dict],
                 checkpoint: Optional[str] = None,
                 converter: Optional[dict] = None,
                 strict: bool = True,
                 use_neck: bool = False,
                 taps: Optional[Sequence[str]] = None,
                 input_channel_order: str = 'bgr') -> None:
        super().__init__()
        if input_channel_order not in ('bgr', 'rgb'):
            raise ValueError("extractor.input_channel_order must be 'bgr' or 'rgb', got "
                             f'{input_channel_order!r}')
        self.taps = None if taps is None else tuple(taps)
        for tap in self.taps or ():
            match = TAP_PATTERN.match(tap)
            if match is None:
                raise ValueError(f"extractor.taps: {tap!r} is not 'backbone.k' or 'neck.k'")
            if match.group(1) == 'neck' and not use_neck:
                raise ValueError(f'extractor.taps: {tap!r} needs use_neck=True')
        from mmdet.registry import MODELS as DET_MODELS
        detector = DET_MODELS.build(_detector_cfg(config))
        if checkpoint is not None:
            load_weights(detector, checkpoint, converter or DETECTOR_CONVERTER, strict)
        else:
            print_log('DetectorFeatureExtractor: no checkpoint, the detector keeps random '
                      'weights', logger='current', level=30)
        pre = detector.data_preprocessor
        from ..data_preprocessors.uniremoval_preprocessor import UniRemovalPreprocessor
        if not isinstance(pre, ImgDataPreprocessor) or isinstance(pre, UniRemovalPreprocessor):
            raise ValueError('extractor.config: the detector\'s data_preprocessor must be '
                             f'an ImgDataPreprocessor (mmdet\'s DetDataPreprocessor), got '
                             f'{type(pre).__name__}')
        if use_neck and not getattr(detector, 'with_neck', False):
            raise ValueError('extractor.use_neck=True but the detector has no neck')
        self.backbone = detector.backbone
        self.neck = detector.neck if use_neck else None  # the head is dropped: dead weight
        self.use_neck = use_neck
        # the detector's input conversion, read off its own data_preprocessor
        # RGB -> the pipeline's order -> the detector's own flip: net, one flip or none
        self.flip_channels = (input_channel_order == 'bgr') != bool(pre._channel_conversion)
        normalize = pre._enable_normalize
        self.register_buffer('mean', pre.mean.detach().clone().float() if normalize else
                             torch.zeros(1, 1, 1), persistent=False)
        self.register_buffer('std', pre.std.detach().clone().float() if normalize else
                             torch.ones(1, 1, 1), persistent=False)
        self.pad_size_divisor = int(pre.pad_size_divisor)
        self.pad_value = float(pre.pad_value)
        freeze(self)

    def preprocess(self, x: Tensor) -> Tensor:
        """Restorer-space images to the detector's input, as its data_preprocessor does.

        Args:
            x (Tensor): RGB images in [0, 1], (N, 3, H, W).

        Returns:
            Tensor: The normalised, padded batch, (N, 3, H', W'), H' and W' multiples of
            ``pad_size_divisor``.
        """
        y = x.float() * 255
        if self.flip_channels:
            y = y.flip(1)
        y = (y - self.mean) / self.std
        h, w = y.shape[-2:]
        d = self.pad_size_divisor
        return F.pad(y, (0, -w % d, 0, -h % d), 'constant', self.pad_value)

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Run the detector's backbone (and neck) on restorer-space images.

        Args:
            x (Tensor): RGB images in [0, 1], (N, 3, H, W).
            return_features (bool): Return the taps as well. Defaults to False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: ``x`` itself (the extractor
            restores nothing; IGCL's extractor protocol), and ``{tap: feature}`` when
            asked for.

        Raises:
            KeyError: If a requested tap is beyond the detector's outputs.
        """
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f'expected RGB images (N, 3, H, W), got {tuple(x.shape)}')
        if not return_features:
            return x
        feats = self.backbone(self.preprocess(x))
        found = {f'backbone.{k}': f for k, f in enumerate(feats)}
        if self.neck is not None:
            found.update({f'neck.{k}': f for k, f in enumerate(self.neck(feats))})
        if self.taps is None:
            return x, found
        missing = [t for t in self.taps if t not in found]
        if missing:
            raise KeyError(f'extractor.taps {missing}: the detector has {sorted(found)}')
        return x, {t: found[t] for t in self.taps}
