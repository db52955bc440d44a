"""UniRemovalPreprocessor: restore every image before any MMDetection detector sees it."""
import copy
from functools import lru_cache, partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmdet.models.data_preprocessors import DetDataPreprocessor
from mmdet.registry import MODELS
from mmengine.registry import MODELS as ROOT_MODELS
from torch import Tensor

from ...utils.checkpoint import load_weights
from ...utils.config_checks import check_preprocessor_normalisation
from ..students.fused import fuse_restorer
from ..tiling import bordered_forward, check_border, check_overlap, tiled_forward
from ..utils import FrozenPartsMixin
from ..utils import freeze as _freeze  # the argument ``freeze`` is a flag

TRAIN_MODES = ('restored', 'raw', 'both')
RESTORER_DTYPES = ('auto', 'float32', 'bfloat16')
REG_LOSS = 'restorer.loss_reg'


@MODELS.register_module()
class UniRemovalPreprocessor(FrozenPartsMixin, DetDataPreprocessor):
    """mmdet's ``DetDataPreprocessor`` with a restorer in front, in train, val and test.

    Each raw image is restored (RGB in [0, 1], clamped), then mmdet's own steps run
    unchanged (channel swap, normalisation, padding, batch augments), so the restorer is
    added to any detector config with one ``data_preprocessor`` delta::

        data_preprocessor=dict(type='UniRemovalPreprocessor',
                               restorer=dict(type='mmagic.UniRemovalNetS'),
                               restorer_checkpoint='stage1.pth')

    How it runs (fused form, bf16, tiles, the regulariser) and why:
    ``docs/user_guides/preprocessor_notes.md``.

    Args:
        restorer (dict): The restoration network's config (mmagic registry: prefix the
            type with ``mmagic.``).
        restorer_checkpoint (str, optional): Path or URL of its weights, loaded as data
            (``weights_only=True``); ``generator.`` keys are taken as they are.
            Defaults to None.
        restorer_converter (dict, optional): Key remapping for the checkpoint (see
            ``remap_state_dict``). Defaults to None.
        freeze (bool): Keep the restorer frozen (eval mode, no gradients); False trains
            it by the detection loss (joint fine-tuning). Defaults to True.
        input_channel_order (str): The pipeline's channel order, ``'bgr'`` (mmdet's
            ``LoadImageFromFile``) or ``'rgb'``. Defaults to ``'bgr'``.
        train_mode (str): What the detector trains on: ``'restored'``, ``'raw'`` or
            ``'both'`` (each batch raw then restored). Validation and testing always
            restore. Defaults to ``'restored'``.
        reg_weight (float): Weight of ``restorer.loss_reg``, the L1 distance to a frozen
            copy of the initial restorer (needs ``freeze=False`` and
            :class:`RestorerLossHook` in ``custom_hooks``); 0 = off. Defaults to 0.
        tile (dict, optional): ``dict(size=..., overlap=...)``: restore images larger
            than ``size`` tile by tile (:func:`~uniremoval_mm.models.tiling.tiled_forward`);
            ``size >= 16``, ``overlap`` at most
            :func:`~uniremoval_mm.models.tiling.max_overlap` (half a tile). Defaults to
            None (whole images).
        keep_restored (bool): At val / test time, store each restored image (uint8,
            pipeline order, without padding) as ``restored_img`` in its data sample, for
            :class:`RestorationQualityMetric`. Defaults to False.
        restorer_dtype (str): Precision without gradients: ``'float32'``, ``'bfloat16'``
            or ``'auto'`` (bfloat16 for a fused restorer on a CPU with native bf16, else
            float32). With gradients it is always float32. Defaults to ``'auto'``.
        fused_inference (bool): Without gradients and in eval mode, run a
            :class:`~uniremoval_mm.models.UniRemovalNet` in its fused form (same
            weights and ``state_dict``). Defaults to True.
        border (int): Mirror each image outwards by this many pixels before restoring
            and crop them off after (:func:`~uniremoval_mm.models.tiling.bordered_forward`).
            Defaults to 0.
        **kwargs: Arguments of ``DetDataPreprocessor`` (``mean``, ``std``,
            ``bgr_to_rgb``, ``pad_size_divisor``, ...).

    Raises:
        ValueError: For an invalid argument; the message names the
            ``data_preprocessor`` field.
    """

    def __init__(self,
                 restorer: dict,
                 restorer_checkpoint: Optional[str] = None,
                 restorer_converter: Optional[dict] = None,
                 freeze: bool = True,
                 input_channel_order: str = 'bgr',
                 train_mode: str = 'restored',
                 reg_weight: float = 0.0,
                 tile: Optional[dict] = None,
                 keep_restored: bool = False,
                 restorer_dtype: str = 'auto',
                 fused_inference: bool = True,
                 border: int = 0,
                 **kwargs) -> None:
        if input_channel_order not in ('bgr', 'rgb'):
            raise ValueError("data_preprocessor.input_channel_order must be 'bgr' or 'rgb', "
                             f'got {input_channel_order!r}')
        check_preprocessor_normalisation(kwargs, input_channel_order)
        super().__init__(**kwargs)
        if train_mode not in TRAIN_MODES:
            raise ValueError(f'data_preprocessor.train_mode must be one of {TRAIN_MODES}, '
                             f'got {train_mode!r}')
        if not freeze and train_mode == 'raw':
            raise ValueError("data_preprocessor.freeze=False with train_mode='raw': the "
                             'restorer would never be trained; freeze it or train on restored')
        if reg_weight < 0 or (reg_weight > 0 and freeze):
            raise ValueError('data_preprocessor.reg_weight must be >= 0, and > 0 only with '
                             f'freeze=False (a frozen restorer needs no regulariser), got '
                             f'{reg_weight} with freeze={freeze}')
        if restorer_dtype not in RESTORER_DTYPES:
            raise ValueError(f'data_preprocessor.restorer_dtype must be one of '
                             f'{RESTORER_DTYPES}, got {restorer_dtype!r}')
        self.border = check_border(border, 'data_preprocessor.border')
        self.restorer_dtype = restorer_dtype
        self.tile = _check_tile(tile)
        self.restorer = ROOT_MODELS.build(restorer)
        if restorer_checkpoint is not None:
            load_weights(self.restorer, restorer_checkpoint, restorer_converter)
        self.freeze = freeze
        self.input_channel_order = input_channel_order
        self.train_mode = train_mode
        self.reg_weight = float(reg_weight)
        self.keep_restored = keep_restored
        self.fused_inference = bool(fused_inference)
        if freeze:
            _freeze(self.restorer)
        self.restorer_init = _freeze(copy.deepcopy(self.restorer)) if reg_weight > 0 else None
        self._pending_losses: Dict[str, Tensor] = {}

    def _frozen_parts(self) -> Tuple[Optional[torch.nn.Module], ...]:
        """A frozen restorer (and the regulariser's copy) stays in eval mode."""
        return (self.restorer if self.freeze else None, self.restorer_init)

    def _run(self, net: torch.nn.Module, x: Tensor) -> Tensor:
        """``net`` on one (1, 3, H, W) RGB [0, 1] image: float32 (or ``restorer_dtype``
        without gradients), tiled if asked."""
        device_type = x.device.type if x.device.type in ('cuda', 'cpu') else 'cpu'
        bf16 = self._bf16(x) and not torch.is_grad_enabled()
        fn, fused = net, self._fused_form(net)
        if fused is not None:
            dtype = torch.bfloat16 if bf16 else None
            fn, bf16 = (lambda t: fused(t, dtype)), False  # bf16 in its own products
        if self.tile is not None and max(x.shape[-2:]) > self.tile['size']:
            fn = partial(tiled_forward, fn, tile=self.tile['size'],
                         overlap=self.tile['overlap'], align=getattr(net, 'multiple', 1))
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=bf16):
            y = bordered_forward(fn, x, self.border)
        return y.float().clamp(0, 1)

    def _bf16(self, x: Tensor) -> bool:
        """Whether the restorer runs in bfloat16 on ``x`` when there are no gradients."""
        if self.restorer_dtype == 'auto':
            return (self.fused_inference and _has_fused_form(self.restorer)
                    and x.device.type == 'cpu' and _cpu_bf16())
        return self.restorer_dtype == 'bfloat16'

    def _fused_form(self, net: torch.nn.Module) -> Optional[torch.nn.Module]:
        """The module that runs ``net`` (the restorer or its frozen copy) now: the one
        place the fused inference form is chosen. With ``fused_inference``, in eval mode
        and without gradients, ``net``'s fused form where it has one
        (:func:`~uniremoval_mm.models.fuse_restorer`); else None (run ``net``)."""
        if not self.fused_inference or net.training or torch.is_grad_enabled():
            return None
        fused = fuse_restorer(net)
        return fused if fused is not net else None

    def _fast(self, img: Tensor) -> bool:
        """Whether ``img`` goes through the fused form with the conversions folded in:
        the restorer runs fused (:meth:`_fused_form`), untiled."""
        return self._fused_form(self.restorer) is not None and (
            self.tile is None or max(img.shape[-2:]) <= self.tile['size'])

    def _restore_fast(self, img: Tensor) -> Tensor:
        """One raw (3, H, W) image through the fused restorer: the scaling to [0, 1],
        the channel order and the clamp are folded into its head and tail."""
        x = self.cast_data(img)[None].float()
        dtype = torch.bfloat16 if self._bf16(x) else None
        device_type = x.device.type if x.device.type in ('cuda', 'cpu') else 'cpu'
        fused = partial(self._fused_form(self.restorer), dtype=dtype, scale=255.0,
                        reverse_channels=self.input_channel_order == 'bgr', clamp=True)
        with torch.autocast(device_type=device_type, enabled=False):
            y = bordered_forward(fused, x, self.border)  # per-pixel conversions commute
        return y[0]

    def restore(self, inputs: Union[Tensor, Sequence[Tensor]]) -> List[Tensor]:
        """Restore raw images; return them in the same channel order and 0-255 scale.

        Args:
            inputs (Tensor | Sequence[Tensor]): (3, H, W) images, or a (N, 3, H, W)
                batch, in 0-255 and ``input_channel_order``.

        Returns:
            list[Tensor]: Restored float32 images, each (3, H, W), same order and scale.
        """
        out, reg = [], []
        grad = torch.is_grad_enabled() and not self.freeze
        for img in inputs:
            with torch.set_grad_enabled(grad):
                if self._fast(img):
                    out.append(self._restore_fast(img))
                    continue
            x = self.cast_data(img).float().div(255)[None]
            if self.input_channel_order == 'bgr':
                x = x.flip(1)
            with torch.set_grad_enabled(grad):
                y = self._run(self.restorer, x)
            if grad and self.restorer_init is not None:
                with torch.no_grad():
                    y0 = self._run(self.restorer_init, x)
                reg.append(F.l1_loss(y, y0))
            if self.input_channel_order == 'bgr':
                y = y.flip(1)
            out.append(y[0] * 255)
        if reg:
            self._pending_losses[REG_LOSS] = self.reg_weight * torch.stack(reg).mean()
        return out

    def pop_losses(self) -> Dict[str, Tensor]:
        """The restorer's losses of the last training batch (then forgotten).

        Returns:
            dict[str, Tensor]: ``{'restorer.loss_reg': ...}`` when the regulariser is
            on, else empty.
        """
        losses, self._pending_losses = self._pending_losses, {}
        return losses

    def forward(self, data: dict, training: bool = False) -> dict:
        """Restore (per ``train_mode`` when training), then run mmdet's preprocessing.

        Args:
            data (dict): ``inputs`` and ``data_samples`` from the dataloader.
            training (bool): Training mode (enables batch augments).

        Returns:
            dict: What ``DetDataPreprocessor`` returns; with ``train_mode='both'`` the
            batch holds the raw images then the restored ones.

        Raises:
            RuntimeError: If the regulariser's loss of the previous batch never reached
                the detector's loss dict (no :class:`RestorerLossHook`).
        """
        if training and self._pending_losses:
            raise RuntimeError(
                'data_preprocessor.reg_weight > 0 but restorer.loss_reg never reached the '
                "detector's loss dict: add custom_hooks=[dict(type='RestorerLossHook')]")
        data = dict(data)
        mode = self.train_mode if training else 'restored'
        if mode == 'restored':
            data['inputs'] = self.restore(data['inputs'])
        elif mode == 'both':
            raw = [self.cast_data(img).float() for img in data['inputs']]
            data['inputs'] = raw + self.restore(data['inputs'])
            samples = data.get('data_samples')
            if samples is not None:
                data['data_samples'] = list(samples) + [copy.deepcopy(s) for s in samples]
        restored = data['inputs'] if mode == 'restored' else None
        out = super().forward(data, training)
        if self.keep_restored and not training and restored is not None:
            for img, sample in zip(restored, out['data_samples']):
                h, w = _content_shape(sample)
                sample.restored_img = img[:, :h, :w].detach().round().byte().cpu()
        return out


def attach_restorer_losses(detector: torch.nn.Module):
    """Make ``detector``'s loss dict carry its pre-processor's restorer losses.

    Registers a forward hook on the detector (the unwrapped model, never DDP: the hook
    then runs inside DDP's forward) that merges
    :meth:`UniRemovalPreprocessor.pop_losses` into the dict ``mode='loss'`` returns.

    Args:
        detector (nn.Module): An mmdet detector whose ``data_preprocessor`` is a
            :class:`UniRemovalPreprocessor`.

    Returns:
        torch.utils.hooks.RemovableHandle: The hook's handle.

    Raises:
        TypeError: If the detector has no :class:`UniRemovalPreprocessor`.
    """
    pre = getattr(detector, 'data_preprocessor', None)
    if not isinstance(pre, UniRemovalPreprocessor):
        raise TypeError('RestorerLossHook needs model.data_preprocessor to be a '
                        f'UniRemovalPreprocessor, got {type(pre).__name__}')

    def merge(module, args, kwargs, output):
        if isinstance(output, dict):
            output.update(pre.pop_losses())
        return output

    return detector.register_forward_hook(merge, with_kwargs=True)


def _content_shape(sample) -> tuple:
    """(h, w) of the image content: ``img_shape`` less any padding the pipeline added.

    mmdet's ``Pad`` transform sets ``img_shape`` to the padded size; the resized image
    itself is ``ori_shape`` times ``scale_factor`` (w, h).
    """
    h, w = sample.img_shape[:2]
    if 'ori_shape' in sample and 'scale_factor' in sample:
        (oh, ow), (sw, sh) = sample.ori_shape[:2], sample.scale_factor[:2]
        h, w = min(h, int(round(oh * sh))), min(w, int(round(ow * sw)))
    return h, w


@lru_cache(maxsize=None)
def _cpu_bf16() -> bool:
    """Whether this CPU has native bfloat16 matrix instructions (AVX512-BF16 or AMX)."""
    checks = ('_is_avx512_bf16_supported', '_is_amx_tile_supported')
    return torch.backends.mkldnn.is_available() and any(
        getattr(torch.cpu, name, lambda: False)() for name in checks)


def _has_fused_form(net: torch.nn.Module) -> bool:
    return fuse_restorer(net) is not net


def _check_tile(tile: Optional[dict]) -> Optional[dict]:
    if tile is None:
        return None
    if not isinstance(tile, dict) or set(tile) - {'size', 'overlap'} or 'size' not in tile:
        raise ValueError('data_preprocessor.tile must be dict(size=..., overlap=...), '
                         f'got {tile!r}')
    size, overlap = tile['size'], tile.get('overlap', 0)
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in (size, overlap))
    if not ints or size < 16 or overlap < 0:
        raise ValueError('data_preprocessor.tile needs int size >= 16 and overlap >= 0, '
                         f'got size={size!r}, overlap={overlap!r}')
    check_overlap(size, overlap, names=('data_preprocessor.tile.size',
                                        'data_preprocessor.tile.overlap'))
    return dict(size=size, overlap=overlap)
