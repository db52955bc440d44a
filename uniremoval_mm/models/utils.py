"""What the model families share: networks that are frozen and stay in eval mode."""
from typing import Iterable, Optional, TypeVar

from mmagic.models.utils import set_requires_grad
from torch import nn

ModuleT = TypeVar('ModuleT', bound=nn.Module)


def freeze(module: ModuleT) -> ModuleT:
    """Freeze every parameter of ``module`` and put it in eval mode, in place.

    Args:
        module (nn.Module): The module.

    Returns:
        nn.Module: ``module``, parameters frozen, in eval mode.
    """
    set_requires_grad(module, False)
    return module.eval()


class FrozenModule(nn.Module):
    """An ``nn.Module`` that stays in eval mode whatever ``train()`` is called with.

    A subclass calls :func:`freeze` on itself at the end of ``__init__``: its parameters
    are then frozen, and its BatchNorm statistics and dropout never change.
    """

    def train(self, mode: bool = True) -> 'FrozenModule':
        """Stay in eval mode.

        Args:
            mode (bool): Ignored.

        Returns:
            nn.Module: self.
        """
        return super().train(False)


class FrozenPartsMixin:
    """Mixin for an ``nn.Module`` whose frozen parts stay in eval mode in ``train()``.

    The module itself (and its other submodules) follow ``train(mode)``; the parts that
    :meth:`_frozen_parts` names are put back in eval mode. List the mixin before the
    module's base class.
    """

    def _frozen_parts(self) -> Iterable[Optional[nn.Module]]:
        """The submodules that stay in eval mode; None entries are skipped.

        Returns:
            Iterable[nn.Module | None]: The frozen submodules.
        """
        raise NotImplementedError

    def train(self, mode: bool = True):
        """Set the mode; the frozen parts stay in eval mode.

        Args:
            mode (bool): Training mode.

        Returns:
            nn.Module: self.
        """
        super().train(mode)
        for part in self._frozen_parts():
            if part is not None:
                part.eval()
        return self
