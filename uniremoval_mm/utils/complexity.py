"""Cost of a network: parameters and MACs, counted with mmengine's convention."""
from typing import Tuple

import torch
from torch import nn


def count_macs_params(model: nn.Module, input_shape: Tuple[int, int, int]) -> Tuple[int, int]:
    """Multiply-adds of one forward pass at batch 1, and the number of parameters.

    Uses mmengine's counter (``mmengine.analysis``), whose convention is: one
    multiply-add counts once (its "flops" are MACs); convolutions, linear layers and
    matrix products are counted; element-wise operations (norms' arithmetic, gates,
    additions) are not.

    Args:
        model (nn.Module): The network; it is put in eval mode.
        input_shape (tuple[int, int, int]): (C, H, W) of the input.

    Returns:
        tuple[int, int]: (MACs, parameters).
    """
    from mmengine.analysis import FlopAnalyzer
    model.eval()
    with torch.no_grad():
        analyzer = FlopAnalyzer(model, torch.zeros(1, *input_shape))
        analyzer.unsupported_ops_warnings(False)
        analyzer.uncalled_modules_warnings(False)
        macs = analyzer.total()
    params = sum(p.numel() for p in model.parameters())
    return int(macs), int(params)
