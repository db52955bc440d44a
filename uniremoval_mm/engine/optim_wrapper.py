"""Skipping optimiser steps whose loss or gradients are not finite."""
import logging
from typing import Dict, Optional

import torch
from mmengine.logging import MessageHub, print_log
from mmengine.optim import OptimWrapper
from mmengine.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class NonFiniteGuardOptimWrapper(OptimWrapper):
    """An ``OptimWrapper`` that skips a step with a NaN/Inf loss or gradient.

    A skipped step changes no parameter and no optimiser state; it is logged as a
    warning and counted (``train/nonfinite_skips`` in the message hub, so it appears in
    the training log, and in this wrapper's ``state_dict``, so a resumed run keeps the
    count). After ``max_skips`` skips the run stops with a clear error instead of
    training on. Use it for every optimiser of a run (the generator's and the
    discriminator's in stage 2).

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
            if self.check_grads and not self._grads_finite():
                self._skip('gradient')
                return
            self.step(**(step_kwargs or {}))
            self.zero_grad(**(zero_kwargs or {}))

    def state_dict(self) -> dict:
        """The optimiser's state plus the skip count."""
        state = super().state_dict()
        state['nonfinite_skips'] = self.skipped
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore the optimiser's state and the skip count.

        Args:
            state_dict (dict): From :meth:`state_dict`.
        """
        state_dict = dict(state_dict)
        self.skipped = int(state_dict.pop('nonfinite_skips', 0))
        super().load_state_dict(state_dict)
