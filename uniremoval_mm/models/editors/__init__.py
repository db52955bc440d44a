from .distiller import UniRemovalDistiller

__all__ = ['UniRemovalDistiller']
