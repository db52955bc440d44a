from .hooks import ProgressHook, RestorationGridHook, RestorerLossHook
from .optim_wrapper import NonFiniteGuardAmpOptimWrapper, NonFiniteGuardOptimWrapper

__all__ = [
    'NonFiniteGuardOptimWrapper', 'NonFiniteGuardAmpOptimWrapper', 'ProgressHook',
    'RestorationGridHook', 'RestorerLossHook'
]
