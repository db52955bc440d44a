"""What the contrastive losses share."""
from typing import Optional, Union

from mmagic.registry import MODELS
from torch import nn

from ..teachers.frozen_teacher import FrozenTeacher
from ..utils import freeze


def build_frozen(module: Union[dict, nn.Module, None]) -> Optional[nn.Module]:
    """Build (from a config, in mmagic's scope) and freeze a feature network.

    Unlike a teacher it does not disable autograd: the loss needs gradients to flow
    *through* the frozen network to its input (the student's output). A
    :class:`FrozenTeacher` (the module itself or one inside it) is switched to
    ``input_grad=True`` for this; as a teacher it still computes without autograd on
    inputs that do not require grad. A config may name one, e.g.
    ``dict(type='FrozenTeacher', model=dict(type='UniRemovalNetT'),
    checkpoint='path.pth')``: its weights load as data (``weights_only``), and an mmagic
    / mmengine checkpoint's ``state_dict`` with ``generator.*`` keys is unwrapped and
    stripped by default.

    Args:
        module (dict | nn.Module, optional): A config or a module; None passes through.
            The module is changed in place (frozen, eval mode).

    Returns:
        nn.Module | None: The module, parameters frozen, in eval mode.
    """
    if module is None:
        return None
    if isinstance(module, dict):
        module = MODELS.build(module if '_scope_' in module else dict(module, _scope_='mmagic'))
    for m in module.modules():
        if isinstance(m, FrozenTeacher):
            m.input_grad = True
    return freeze(module)
