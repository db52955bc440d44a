"""FrozenTeacher: a pretrained specialist, built from a config, loaded as data, frozen."""
import inspect
from typing import Dict, Optional, Tuple, Union

import torch
from mmagic.registry import MODELS
from torch import Tensor

from ...utils.checkpoint import load_weights
from ...utils.network_configs import network_cfg
from ..utils import FrozenModule, freeze


@MODELS.register_module()
class FrozenTeacher(FrozenModule):
    """A specialist restoration network used as a frozen teacher.

    It builds the network from a config, loads a checkpoint (path or URL) with
    ``weights_only=True``, remaps its keys, freezes every parameter and stays in eval
    mode whatever ``train()`` is called with. Inputs and outputs are RGB in [0, 1].

    As a teacher (the default) it computes without autograd, even for an input that
    requires grad: its outputs are targets, with ``requires_grad`` False. As the feature
    extractor of a loss (``input_grad=True``; :func:`~uniremoval_mm.models.losses.utils.
    build_frozen` sets it) gradients flow *through* it to the input when autograd is on
    and the input requires grad; its parameters stay frozen and in eval mode either way.

    Args:
        model (dict | str): The network's config (e.g. ``dict(type='AODNet')``), or an
            mmagic config file whose ``model.generator`` is the network (e.g.
            ``'mmagic::nafnet/nafnet_c64eb2248mb12db2222_8xb8-lr1e-3-400k_sidd.py'``).
        checkpoint (str, optional): Local path or ``http(s)`` URL of the weights. None
            keeps the network's own initialisation (for weight-free teachers such as
            the dark channel prior). Defaults to None.
        converter (dict, optional): Keyword arguments of
            :func:`uniremoval_mm.utils.checkpoint.remap_state_dict` (``unwrap``,
            ``strip_prefixes``, ``rename``). Defaults to None (its defaults).
        strict (bool): Require the remapped keys to match the network exactly.
            Defaults to True.
        trusted (bool): Load the checkpoint with ``weights_only=False``. Only for files
            you trust. Defaults to False.
        sha256 (str, optional): Expected SHA-256 of the checkpoint file. Defaults to None.
        clamp (bool): Clamp outputs to [0, 1]. Defaults to True.
        input_grad (bool): Let gradients flow through the network to an input that
            requires grad (for use as a loss's feature extractor). Defaults to False
            (a teacher: no autograd at all).
    """

    def __init__(self,
                 model: Union[dict, str],
                 checkpoint: Optional[str] = None,
                 converter: Optional[dict] = None,
                 strict: bool = True,
                 trusted: bool = False,
                 sha256: Optional[str] = None,
                 clamp: bool = True,
                 input_grad: bool = False) -> None:
        super().__init__()
        self.model = MODELS.build(network_cfg(model, require_generator=True))
        self.checkpoint = checkpoint
        self.clamp = clamp
        self.input_grad = input_grad
        if checkpoint is not None:
            load_weights(self.model, checkpoint, converter, strict, trusted, sha256)
        self._takes_features = 'return_features' in inspect.signature(
            self.model.forward).parameters
        freeze(self)

    @property
    def has_features(self) -> bool:
        """Whether the wrapped network exposes feature taps."""
        return self._takes_features and hasattr(self.model, 'feature_channels')

    @property
    def feature_channels(self) -> Dict[str, int]:
        """Channels of the wrapped network's feature taps (empty if it has none)."""
        return dict(self.model.feature_channels) if self.has_features else {}

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Restore ``x``.

        Autograd runs only with ``input_grad`` set, autograd enabled and ``x`` requiring
        grad; then gradients reach ``x``, never the (frozen) parameters. Otherwise the
        outputs carry no graph.

        Args:
            x (Tensor): Degraded RGB images in [0, 1], (N, 3, H, W).
            return_features (bool): Also return the feature taps; an empty dict for a
                network without taps. Defaults to False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: The teacher's output, and its
            taps when asked for.
        """
        track = self.input_grad and torch.is_grad_enabled() and x.requires_grad
        with torch.set_grad_enabled(track):
            if return_features and self.has_features:
                out, feats = self.model(x, return_features=True)
            else:
                out, feats = self.model(x), {}
            if self.clamp:
                out = out.clamp(0, 1)
        return (out, feats) if return_features else out
