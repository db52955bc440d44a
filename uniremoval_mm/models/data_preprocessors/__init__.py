from .uniremoval_preprocessor import UniRemovalPreprocessor

__all__ = ['UniRemovalPreprocessor']
