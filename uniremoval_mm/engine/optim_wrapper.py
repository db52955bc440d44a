"""Skipping optimiser steps whose loss or gradients are not finite (fp32 and AMP)."""
import logging
from typing import Dict, Optional

import torch
from mmengine.logging import MessageHub, print_log
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


class _NonFiniteGuard:
    """What both guarded wrappers share: the loss check, the skip counter, the limit.

    Subclasses decide, in :meth:`_guarded_step`, what a non-finite gradient means.
    """

    #: State-dict key -> attribute of each counter saved with the optimiser's state.
    _COUNTERS: Dict[str, str] = {'nonfinite_skips': 'skipped'}

    def _init_guard(self, max_skips: Optional[int], check_grads: bool) -> None:
        if max_skips is not None and max_skips < 0:
            raise ValueError(f'optim_wrapper.max_skips must be >= 0 or None, got {max_skips}')
        self.max_skips = max_skips
        self.check_grads = check_grads
        self.skipped = 0

    def _grads_finite(self) -> bool:
        for group in self.optimizer.param_groups:
            for p in group['params']:
                if p.grad is not None and not torch.isfinite(p.grad).all():
                    return False
        return True

    def _skip(self, what: str) -> None:
        self.skipped += 1
        self.zero_grad()
        MessageHub.get_current_instance().update_scalar('train/nonfinite_skips', self.skipped)
        print_log(f'non-finite {what}: optimiser step skipped ({self.skipped} so far)',
                  logger='current', level=logging.WARNING)
        if self.max_skips is not None and self.skipped > self.max_skips:
            raise FloatingPointError(
                f'{self.skipped} optimiser steps had a non-finite loss or gradient, more than '
                f'optim_wrapper.max_skips={self.max_skips}: stopping. Lower the learning rate, '
                'check the data, or raise max_skips.')

    def _guarded_step(self, step_kwargs: Dict) -> None:
        if self.check_grads and not self._grads_finite():
            self._skip('gradient')
            return
        self.step(**step_kwargs)

    def update_params(self, loss: torch.Tensor, step_kwargs: Optional[Dict] = None,
                      zero_kwargs: Optional[Dict] = None) -> None:
        """Backward and step, unless the loss or (then) the gradients are not finite.

        Args:
            loss (Tensor): The loss.
            step_kwargs (dict, optional): Passed to ``step``.
            zero_kwargs (dict, optional): Passed to ``zero_grad``.
        """
        if not torch.isfinite(loss).all():
            self._skip('loss')
            return
        loss = self.scale_loss(loss)
        self.backward(loss)
        if self.should_update():
            self._guarded_step(step_kwargs or {})
            self.zero_grad(**(zero_kwargs or {}))

    def state_dict(self) -> dict:
        """The optimiser's state (and the scaler's, under AMP) plus the counters."""
        state = super().state_dict()
        for key, attr in self._COUNTERS.items():
            state[key] = getattr(self, attr)
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the optimiser's state (and the scaler's, under AMP) and the counters.

        Args:
            state_dict (dict): From :meth:`state_dict`.
        """
        state_dict = dict(state_dict)
        for key, attr in self._COUNTERS.items():
            setattr(self, attr, int(state_dict.pop(key, 0)))
        super().load_state_dict(state_dict)


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(_NonFiniteGuard, OptimWrapper):
    """An ``OptimWrapper`` that skips a step with a NaN/Inf loss or gradient.

    A skipped step changes no parameter and no optimiser state; it is logged as a
    warning and counted (``train/nonfinite_skips`` in the message hub, so it appears in
    the training log, and in this wrapper's ``state_dict``, so a resumed run keeps the
    count). After ``max_skips`` skips the run stops with a clear error instead of
    training on. Use it for every optimiser of a run (the generator's and the
    discriminator's in stage 2). With mixed precision use
    :class:`NonFiniteGuardAmpOptimWrapper` (``tools/train.py --amp`` switches to it).

    Args:
        max_skips (int, optional): Skips allowed before ``FloatingPointError``; None
            never stops. Defaults to 10.
        check_grads (bool): Also check the gradients before stepping. Defaults to True.
        **kwargs: Arguments of ``mmengine.optim.OptimWrapper`` (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self, max_skips: Optional[int] = 10, check_grads: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_guard(max_skips, check_grads)


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardAmpOptimWrapper(_NonFiniteGuard, AmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` with the non-finite guard, in step with its scaler.

    Two kinds of bad step, told apart and counted apart:

    - a **non-finite loss** is skipped before ``backward`` (the scaler never sees it),
      counted in ``skipped`` / ``train/nonfinite_skips`` and bounded by ``max_skips``,
      as in :class:`NonFiniteGuardOptimWrapper`;
    - **non-finite gradients** under an active ``GradScaler`` (fp16) are the scaler's
      business: it skips the step itself and lowers the loss scale, and that is how
      fp16 training finds its scale, so the guard neither skips them again nor counts
      them against ``max_skips`` (skipping without ``scaler.update()`` would keep the
      scale too high for ever). They are counted in ``overflows`` /
      ``train/amp_overflow_skips`` (logged at INFO). Only a run of
      ``max_consecutive_overflows`` in a row stops training: the gradients are then
      not finite at any scale.

    Where the scaler is inactive (bf16 autocast needs none; mmengine's scaler disables
    itself without CUDA), non-finite gradients are skipped and counted as in the fp32
    guard. Select it in a config with::

        optim_wrapper = dict(type='NonFiniteGuardAmpOptimWrapper', loss_scale='dynamic',
                             dtype='float16', max_skips=50, optimizer=...)

    mmengine's ``AmpOptimWrapper`` needs a CUDA (or NPU / MLU / MUSA) device.

    Args:
        max_skips (int, optional): Non-finite losses (and, without an active scaler,
            gradients) allowed before ``FloatingPointError``; None never stops.
            Defaults to 10.
        max_consecutive_overflows (int, optional): Scaler-skipped steps in a row
            allowed before ``FloatingPointError``; None never stops. Defaults to 30
            (from the default scale 2**16, 30 halvings reach 2**-14).
        check_grads (bool): Check gradients where no scaler does. Defaults to True.
        **kwargs: Arguments of ``mmengine.optim.AmpOptimWrapper`` (``loss_scale``,
            ``dtype``, ``optimizer``, ``accumulative_counts``, ``clip_grad``, ...).
    """

    _COUNTERS = {**_NonFiniteGuard._COUNTERS, 'amp_overflow_skips': 'overflows'}

    def __init__(self, max_skips: Optional[int] = 10,
                 max_consecutive_overflows: Optional[int] = 30, check_grads: bool = True,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_guard(max_skips, check_grads)
        if max_consecutive_overflows is not None and max_consecutive_overflows < 1:
            raise ValueError('optim_wrapper.max_consecutive_overflows must be >= 1 or None, '
                             f'got {max_consecutive_overflows}')
        self.max_consecutive_overflows = max_consecutive_overflows
        self.overflows = 0
        self._overflow_run = 0

    def _guarded_step(self, step_kwargs: Dict) -> None:
        scaler = self.loss_scaler
        if not scaler.is_enabled():
            super()._guarded_step(step_kwargs)
            return
        # unscale_ once here (GradScaler.step would): the gradients are then readable,
        # and the scaler has recorded whether they are finite
        scaler.unscale_(self.optimizer)
        finite = self._grads_finite()
        if finite and self.clip_grad_kwargs:
            self._clip_grad()
        scaler.step(self.optimizer, **step_kwargs)  # skips the update if not finite
        scaler.update(self._scale_update_param)  # and lowers the scale
        if finite:
            self._overflow_run = 0
            return
        self.overflows += 1
        self._overflow_run += 1
        MessageHub.get_current_instance().update_scalar('train/amp_overflow_skips',
                                                        self.overflows)
        print_log(f'non-finite gradient under fp16: the GradScaler skipped the step and '
                  f'lowered the loss scale to {scaler.get_scale():g} ({self.overflows} so far)',
                  logger='current', level=logging.INFO)
        limit = self.max_consecutive_overflows
        if limit is not None and self._overflow_run > limit:
            raise FloatingPointError(
                f'{self._overflow_run} optimiser steps in a row had non-finite gradients at '
                f'every loss scale (now {scaler.get_scale():g}), more than optim_wrapper.'
                f'max_consecutive_overflows={limit}: stopping. Check the model and the data '
                'for NaN/Inf, or train in float32.')
