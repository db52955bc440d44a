from .restorer_loss_hook import RestorerLossHook
from .uniremoval_preprocessor import UniRemovalPreprocessor, attach_restorer_losses

__all__ = ['UniRemovalPreprocessor', 'RestorerLossHook', 'attach_restorer_losses']
