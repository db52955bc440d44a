from .optim_wrapper import NonFiniteGuardAmpOptimWrapper, NonFiniteGuardOptimWrapper
from .progress_hook import ProgressHook
from .restoration_grid_hook import RestorationGridHook

__all__ = [
    'NonFiniteGuardOptimWrapper', 'NonFiniteGuardAmpOptimWrapper', 'ProgressHook',
    'RestorationGridHook'
]
