"""RestorerLossHook: put the pre-processor's restorer losses into the detector's loss dict."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from ...models.data_preprocessors.uniremoval_preprocessor import attach_restorer_losses


@HOOKS.register_module()
class RestorerLossHook(Hook):
    """Merge ``restorer.loss_reg`` of a trainable :class:`UniRemovalPreprocessor`.

    mmengine's ``train_step`` runs the pre-processor, then the detector's
    ``forward(mode='loss')``, then sums the loss dict; the pre-processor's regulariser
    has no way into that dict by itself. Before training, this hook registers a forward
    hook on the (unwrapped) detector that adds the pending restorer losses to the dict it
    returns, inside DDP's forward. Use it whenever ``data_preprocessor.reg_weight > 0``::

        custom_hooks = [dict(type='RestorerLossHook')]
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Attach the forward hook to ``runner.model`` (unwrapped).

        Args:
            runner (Runner): The runner.
        """
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._handle = attach_restorer_losses(model)
