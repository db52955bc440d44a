from .uniremoval_preprocessor import UniRemovalPreprocessor, attach_restorer_losses

__all__ = ['UniRemovalPreprocessor', 'attach_restorer_losses']
