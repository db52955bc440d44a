"""UniRemovalPreprocessor: restore every image before any MMDetection detector sees it."""
from typing import List, Optional, Sequence, Union

import torch
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS
from mmengine.registry import MODELS as ROOT_MODELS
from torch import Tensor

from ..teachers.frozen_teacher import load_weights


@MODELS.register_module()
class UniRemovalPreprocessor(DetDataPreprocessor):
    """mmdet's ``DetDataPreprocessor`` with a restorer in front, in train, val and test.

    Each raw image (uint8, in the pipeline's channel order) is turned into RGB in
    [0, 1], restored, and turned back; then mmdet's own steps run unchanged (BGR→RGB if
    asked, normalisation with the detector's mean/std, padding to ``pad_size_divisor``,
    ``batch_input_shape``, batch augments). So the restorer can be added to any
    detector config without touching the rest::

        data_preprocessor=dict(type='UniRemovalPreprocessor',
                               restorer=dict(type='mmagic.UniRemovalNetS'),
                               restorer_checkpoint='stage1.pth', mean=..., std=...,
                               bgr_to_rgb=True, pad_size_divisor=32)

    Args:
        restorer (dict): The restoration network's config (our networks are in mmagic's
            registry: prefix the type with ``mmagic.``).
        restorer_checkpoint (str, optional): Path or URL of its weights, loaded with
            ``weights_only=True``; mmagic / stage-1 checkpoints (``generator.`` keys)
            load as they are. Defaults to None.
        restorer_converter (dict, optional): Key remapping for the checkpoint (see
            ``remap_state_dict``). Defaults to None.
        freeze (bool): Keep the restorer frozen (eval mode, no gradients). False makes
            it trainable by the detection loss (joint fine-tuning). Defaults to True.
        input_channel_order (str): Channel order of the pipeline's images: ``'bgr'``
            (mmdet's ``LoadImageFromFile``) or ``'rgb'``. Defaults to ``'bgr'``.
        **kwargs: Arguments of ``DetDataPreprocessor`` (``mean``, ``std``,
            ``bgr_to_rgb``, ``pad_size_divisor``, ...).
    """

    def __init__(self,
                 restorer: dict,
                 restorer_checkpoint: Optional[str] = None,
                 restorer_converter: Optional[dict] = None,
                 freeze: bool = True,
                 input_channel_order: str = 'bgr',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if input_channel_order not in ('bgr', 'rgb'):
            raise ValueError("data_preprocessor.input_channel_order must be 'bgr' or 'rgb', "
                             f'got {input_channel_order!r}')
        self.restorer = ROOT_MODELS.build(restorer)
        if restorer_checkpoint is not None:
            load_weights(self.restorer, restorer_checkpoint, restorer_converter)
        self.freeze = freeze
        self.input_channel_order = input_channel_order
        if freeze:
            for p in self.restorer.parameters():
                p.requires_grad_(False)
            self.restorer.eval()

    def train(self, mode: bool = True) -> 'UniRemovalPreprocessor':
        """Set the mode; a frozen restorer stays in eval mode.

        Args:
            mode (bool): Training mode.

        Returns:
            UniRemovalPreprocessor: self.
        """
        super().train(mode)
        if self.freeze:
            self.restorer.eval()
        return self

    def restore(self, inputs: Union[Tensor, Sequence[Tensor]]) -> List[Tensor]:
        """Restore raw images; return them in the same channel order and 0-255 scale.

        Args:
            inputs (Tensor | Sequence[Tensor]): (3, H, W) images, or a (N, 3, H, W)
                batch, in 0-255 and ``input_channel_order``.

        Returns:
            list[Tensor]: Restored float images, each (3, H, W), same order and scale.
        """
        out = []
        for img in inputs:
            x = self.cast_data(img).float().div(255)
            if self.input_channel_order == 'bgr':
                x = x.flip(0)
            with torch.set_grad_enabled(torch.is_grad_enabled() and not self.freeze):
                y = self.restorer(x[None])[0].clamp(0, 1)
            if self.input_channel_order == 'bgr':
                y = y.flip(0)
            out.append(y * 255)
        return out

    def forward(self, data: dict, training: bool = False) -> dict:
        """Restore, then run mmdet's preprocessing.

        Args:
            data (dict): ``inputs`` and ``data_samples`` from the dataloader.
            training (bool): Training mode (enables batch augments).

        Returns:
            dict: What ``DetDataPreprocessor`` returns.
        """
        data = dict(data)
        data['inputs'] = self.restore(data['inputs'])
        return super().forward(data, training)
