"""What the model families share: freezing, frozen modules and frozen parts."""
from torch import nn

from uniremoval_mm.models.utils import FrozenModule, FrozenPartsMixin, freeze


class _Frozen(FrozenModule):

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3), nn.Dropout())
        freeze(self)


class _WithFrozenPart(FrozenPartsMixin, nn.Module):

    def __init__(self, frozen: bool) -> None:
        super().__init__()
        self.part = freeze(nn.BatchNorm2d(3)) if frozen else None
        self.head = nn.Conv2d(3, 3, 1)

    def _frozen_parts(self):
        return (self.part, )


def test_freeze_turns_off_gradients_and_sets_eval():
    net = nn.Sequential(nn.Conv2d(3, 3, 3), nn.BatchNorm2d(3))
    assert freeze(net) is net
    assert not net.training and not any(m.training for m in net.modules())
    assert not any(p.requires_grad for p in net.parameters())


def test_a_frozen_module_stays_in_eval_mode():
    module = _Frozen()
    assert module.train() is module and module.train(True) is module
    assert not any(m.training for m in module.modules())
    assert not any(p.requires_grad for p in module.parameters())


def test_frozen_parts_stay_in_eval_and_the_rest_follows_the_mode():
    module = _WithFrozenPart(frozen=True)
    assert module.train() is module
    assert module.training and module.head.training and not module.part.training
    module.eval()
    assert not module.training and not module.head.training
    none = _WithFrozenPart(frozen=False).train()  # a None part is skipped
    assert none.training and none.head.training
