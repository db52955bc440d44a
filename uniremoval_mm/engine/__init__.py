from .optim_wrapper import NonFiniteGuardOptimWrapper
from .restoration_grid_hook import RestorationGridHook

__all__ = ['NonFiniteGuardOptimWrapper', 'RestorationGridHook']
