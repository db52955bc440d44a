from .aodnet import AODNet
from .dcp import DarkChannelPrior, dark_channel, guided_filter
from .dncnn import DnCNN
from .frozen_teacher import FrozenTeacher
from .prenet import PReNet

__all__ = [
    'AODNet', 'DarkChannelPrior', 'dark_channel', 'guided_filter', 'DnCNN', 'FrozenTeacher',
    'PReNet'
]
