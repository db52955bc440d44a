from .progress_hook import ProgressHook
from .restoration_grid_hook import RestorationGridHook
from .restorer_loss_hook import RestorerLossHook

__all__ = ['ProgressHook', 'RestorationGridHook', 'RestorerLossHook']
