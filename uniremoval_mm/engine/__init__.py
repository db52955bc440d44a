from .optim_wrapper import NonFiniteGuardAmpOptimWrapper, NonFiniteGuardOptimWrapper
from .restoration_grid_hook import RestorationGridHook

__all__ = ['NonFiniteGuardOptimWrapper', 'NonFiniteGuardAmpOptimWrapper', 'RestorationGridHook']
