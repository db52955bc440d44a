"""RestorerLossHook: the pre-processor's regulariser joins the detector's loss dict."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.registry import HOOKS

import uniremoval_mm  # noqa: F401  (registers the hook)
from uniremoval_mm.engine import RestorerLossHook
from uniremoval_mm.models import UniRemovalPreprocessor

TINY = dict(type='mmagic.UniRemovalNet', width=4, enc_blocks=(1, 1), middle_blocks=1,
            zero_init_tail=False)


class _Detector(torch.nn.Module):
    """Stands for an mmdet detector: a pre-processor and a loss dict."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = UniRemovalPreprocessor(
            restorer=TINY, freeze=False, reg_weight=0.5, mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375], bgr_to_rgb=True)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss_cls=inputs.mean())


def test_the_registered_hook_merges_the_restorer_loss():
    hook = HOOKS.build(dict(type='RestorerLossHook'))
    assert isinstance(hook, RestorerLossHook) and hook.priority == 'VERY_HIGH'
    detector = _Detector()
    hook.before_train(SimpleNamespace(model=detector))
    with torch.no_grad():  # the pre-processor's copy differs from the restorer
        next(detector.data_preprocessor.restorer.parameters()).add_(0.1)
    images = [torch.randint(0, 256, (3, 19, 23), dtype=torch.uint8)]
    data = detector.data_preprocessor(dict(inputs=images), training=True)
    losses = detector(data['inputs'])
    assert set(losses) == {'loss_cls', 'restorer.loss_reg'} and losses['restorer.loss_reg'] > 0
    assert detector.data_preprocessor.pop_losses() == {}  # taken, not left for the next batch


def test_a_detector_without_our_preprocessor_is_refused():
    hook = HOOKS.build(dict(type='RestorerLossHook'))
    with pytest.raises(TypeError, match='RestorerLossHook needs model.data_preprocessor'):
        hook.before_train(SimpleNamespace(model=torch.nn.Linear(1, 1)))
