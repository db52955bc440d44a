from .optim_wrapper import NonFiniteGuardOptimWrapper

__all__ = ['NonFiniteGuardOptimWrapper']
