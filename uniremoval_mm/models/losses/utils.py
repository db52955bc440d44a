"""What the contrastive losses share."""
from typing import Optional, Union

from mmagic.registry import MODELS
from torch import nn


def build_frozen(module: Union[dict, nn.Module, None]) -> Optional[nn.Module]:
    """Build (from a config, in mmagic's scope) and freeze a feature network.

    Unlike ``FrozenTeacher`` it does not disable autograd: the loss needs gradients to
    flow *through* the frozen network to its input (the student's output).

    Args:
        module (dict | nn.Module, optional): A config or a module; None passes through.

    Returns:
        nn.Module | None: The module, parameters frozen, in eval mode.
    """
    if module is None:
        return None
    if isinstance(module, dict):
        module = MODELS.build(module if '_scope_' in module else dict(module, _scope_='mmagic'))
    for p in module.parameters():
        p.requires_grad_(False)
    return module.eval()
