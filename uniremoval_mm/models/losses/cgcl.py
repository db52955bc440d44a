"""CGCL: cluster-grained contrastive learning (stage 2's regulariser).

Restored outputs are pulled towards the prototype of the real-clean cluster and pushed
away from the prototypes of degraded clusters. Prototypes live in an EMA memory bank
(registered buffers) fed by embeddings of real clean photos and real degraded photos; the
embedding is a hand-made statistic, the live discriminator's pooled features, or a frozen
encoder's.
Formulas, symbols and reasons: ``docs/method.md``.
"""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

from ..utils import FrozenPartsMixin
from .igcl import image_view
from .utils import build_frozen


def degradation_descriptor(x: Tensor, patch: int = 7) -> Tensor:
    """A weight-free, differentiable descriptor of how degraded images look: (N, 7).

    Statistics that degradations move and content moves less (mean colour, which is
    mostly content, is left out). Per image: RGB contrast (3, std), dark-channel mean
    (haze lifts it),
    sharpness = mean gradient magnitude / mean contrast (blur lowers it, noise and rain
    raise it; dividing by contrast keeps smooth content from passing for blur), share of spectral
    energy above a quarter of the band (blur lowers it, noise raises it), mean
    saturation (haze and blur lower it).

    Args:
        x (Tensor): Images in [0, 1], (N, 3, H, W).
        patch (int): Dark-channel window. Defaults to 7.

    Returns:
        Tensor: Descriptors, (N, 7).
    """
    n = x.shape[0]
    std = x.std((2, 3))
    dark = -F.max_pool2d(-x.min(1, keepdim=True).values, patch, 1, patch // 2)
    grad = image_view(x, 'gradient').mean((1, 2, 3))
    spec = torch.fft.rfft2(x.mean(1), norm='ortho').abs() ** 2
    h, w = spec.shape[-2:]
    fy = torch.fft.fftfreq(x.shape[-2], device=x.device).abs()[:, None]
    fx = torch.fft.rfftfreq(x.shape[-1], device=x.device)[None, :w]
    high = ((fy**2 + fx**2).sqrt() > 0.25).float()
    high_share = (spec * high).flatten(1).sum(1) / (spec.flatten(1).sum(1) + 1e-8)
    sat = (x.max(1).values - x.min(1).values).mean((1, 2))
    sharpness = grad / (std.mean(1) + 1e-3)
    return torch.cat([std, dark.mean((1, 2, 3))[:, None], sharpness[:, None],
                      high_share[:, None], sat[:, None]], 1).view(n, 7)


@MODELS.register_module()
class CGCLLoss(FrozenPartsMixin, nn.Module):
    """Cluster-grained contrastive loss with an EMA prototype memory bank.

    With ``e = embed(ŷ)`` (standardised by running statistics of the real photos, unit
    length), prototypes ``c_0`` (real clean) and ``c_1..c_K`` (degraded clusters),
    cosine similarity ``s``:

    ``L = mean_i -log( exp(s(e_i, c_0)/τ) / Σ_{k seen} exp(s(e_i, c_k)/τ) )``

    and, in training mode, ``c_k ← normalize(m·c_k + (1 - m)·mean(e of cluster k))`` from
    the real clean / degraded embeddings of the batch (no gradient). Degraded clusters
    come from ``degraded_labels`` (one per degradation type) or, without labels, from
    online k-means (nearest prototype). Clusters not yet seen are left out; before the
    clean prototype is seen the loss is 0.

    The embedding (``embedding``):

    - ``'stats'``: the weight-free :func:`degradation_descriptor` (7 numbers);
    - ``'discriminator'``: a live network's pooled taps, passed to every call as
      ``network`` (stage 2's discriminator, ``SNPatchDiscriminator.features``). The loss
      does not own it, freeze it or register it: the prototypes are computed without
      gradient, the anchor ``ŷ`` with gradient to ``ŷ`` (whether the network's
      parameters get one is the caller's choice; the calibrator switches them off in its
      generator step). ``feature_channels`` gives the tap widths (the calibrator fills
      it in from its discriminator);
    - a config or module: a frozen encoder (``build_frozen``) whose
      ``forward(x, return_features=True)`` gives taps, of which ``layers`` are
      average-pooled and concatenated.

    Args:
        num_degraded_clusters (int): K. Defaults to 4.
        momentum (float): m of the EMA (prototypes and running statistics). Defaults to
            0.9.
        temperature (float): τ. Defaults to 0.1.
        embedding (str | dict | nn.Module): ``'stats'``, ``'discriminator'`` or a frozen
            encoder (config or module). Defaults to ``'stats'``.
        layers (Sequence[str], optional): Taps to pool: required with an encoder; with
            ``'discriminator'`` None means all of ``feature_channels``; must be None
            with ``'stats'``. Defaults to None.
        feature_channels (dict[str, int], optional): Channels of the live network's taps
            (``'discriminator'`` only, where it is required). Defaults to None.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 num_degraded_clusters: int = 4,
                 momentum: float = 0.9,
                 temperature: float = 0.1,
                 embedding: Union[str, dict, nn.Module] = 'stats',
                 layers: Optional[Sequence[str]] = None,
                 feature_channels: Optional[Dict[str, int]] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if num_degraded_clusters < 1 or not 0 <= momentum < 1 or temperature <= 0:
            raise ValueError('need num_degraded_clusters >= 1, 0 <= momentum < 1 and '
                             'temperature > 0')
        if isinstance(embedding, str) and embedding not in ('stats', 'discriminator'):
            raise ValueError("embedding must be 'stats', 'discriminator' or an encoder config "
                             f'or module, got {embedding!r}')
        self.encoder = None
        if embedding == 'stats':
            if layers or feature_channels:
                raise ValueError("layers= and feature_channels= do not apply to "
                                 "embedding='stats'")
            channels = {'stats': 7}
            layers = ('stats', )
        elif embedding == 'discriminator':
            if not feature_channels:
                raise ValueError("embedding='discriminator' needs feature_channels= (the "
                                 'calibrator fills it in from its discriminator)')
            channels = dict(feature_channels)
            layers = tuple(layers or channels)
        else:
            if not layers:
                raise ValueError('give layers= with an encoder embedding')
            self.encoder = build_frozen(embedding)
            channels = getattr(self.encoder, 'feature_channels', {})
        missing = [name for name in layers if name not in channels]
        if missing:
            raise ValueError(f'the embedding has no taps {missing} (it has {sorted(channels)})')
        self.embedding = embedding if isinstance(embedding, str) else 'encoder'
        self.layers = tuple(layers)
        self.num_degraded_clusters = num_degraded_clusters
        self.momentum = momentum
        self.temperature = temperature
        self.loss_weight = loss_weight
        dim = sum(channels[name] for name in self.layers)
        self.register_buffer('prototypes', torch.zeros(num_degraded_clusters + 1, dim))
        self.register_buffer('seen', torch.zeros(num_degraded_clusters + 1, dtype=torch.bool))
        # running mean / variance of the raw embedding of real photos, so that every
        # dimension weighs alike and cosines are taken around the photos' mean
        self.register_buffer('stat_mean', torch.zeros(dim))
        self.register_buffer('stat_var', torch.ones(dim))
        self.register_buffer('stat_seen', torch.zeros((), dtype=torch.bool))

    def _frozen_parts(self) -> Tuple[Optional[nn.Module]]:
        """A frozen encoder stays in eval mode; the loss's own mode (in training it
        updates the memory bank) follows ``train()``."""
        return (self.encoder, )

    def _raw(self, x: Tensor, network: Optional[nn.Module]) -> Tensor:
        if self.embedding == 'stats':
            return degradation_descriptor(x)
        if self.embedding == 'discriminator':
            if network is None or not hasattr(network, 'features'):
                raise ValueError("CGCLLoss(embedding='discriminator') needs network= with a "
                                 '`features(x, layers)` method (e.g. SNPatchDiscriminator)')
            return network.features(x, self.layers)
        _, taps = self.encoder(x, return_features=True)
        return torch.cat([taps[name].mean((2, 3)) for name in self.layers], 1)

    def _standardise(self, z: Tensor) -> Tensor:
        return F.normalize((z - self.stat_mean) / (self.stat_var + 1e-6).sqrt(), dim=1)

    def embed(self, x: Tensor, network: Optional[nn.Module] = None) -> Tensor:
        """Unit-length embeddings of images in [0, 1].

        Args:
            x (Tensor): Images, (N, 3, H, W).
            network (nn.Module, optional): The live network (``'discriminator'`` only).

        Returns:
            Tensor: (N, D).
        """
        return self._standardise(self._raw(x, network))

    @torch.no_grad()
    def _update_stats(self, z: Tensor) -> None:
        if not bool(self.stat_seen):
            self.stat_mean.copy_(z.mean(0))
            self.stat_var.copy_(z.var(0, unbiased=False) + 1e-6)
            self.stat_seen.fill_(True)
        else:
            m = self.momentum
            self.stat_mean.mul_(m).add_((1 - m) * z.mean(0))
            self.stat_var.mul_(m).add_((1 - m) * z.var(0, unbiased=False))

    @torch.no_grad()
    def _ema(self, k: int, embeddings: Tensor) -> None:
        mean = embeddings.mean(0)
        if bool(self.seen[k]):
            mean = self.momentum * self.prototypes[k] + (1 - self.momentum) * mean
        self.prototypes[k] = F.normalize(mean, dim=0)
        self.seen[k] = True

    @torch.no_grad()
    def update(self, clean: Optional[Tensor] = None, degraded: Optional[Tensor] = None,
               degraded_labels: Optional[Tensor] = None,
               network: Optional[nn.Module] = None) -> None:
        """Feed real clean / degraded photos into the memory bank (no gradient).

        Args:
            clean (Tensor, optional): Real clean photos, (N, 3, H, W).
            degraded (Tensor, optional): Real degraded photos, (M, 3, H, W).
            degraded_labels (Tensor, optional): Cluster of each degraded photo, in
                [0, K); None: nearest prototype (online k-means).
            network (nn.Module, optional): The live network (``'discriminator'`` only).
        """
        clean = clean if clean is not None and len(clean) else None
        degraded = degraded if degraded is not None and len(degraded) else None
        raw = {name: self._raw(x, network) for name, x in (('clean', clean),
                                                           ('degraded', degraded))
               if x is not None}
        if not raw:
            return
        self._update_stats(torch.cat(list(raw.values())))
        if 'clean' in raw:
            self._ema(0, self._standardise(raw['clean']))
        if 'degraded' not in raw:
            return
        e = self._standardise(raw['degraded'])
        if degraded_labels is None:
            unseen = (~self.seen[1:]).nonzero().flatten()
            if len(unseen):  # seed empty clusters with the first unseen embeddings
                for k, row in zip(unseen.tolist(), e[:len(unseen)]):
                    self._ema(k + 1, row[None])
            sims = e @ self.prototypes[1:].t()
            sims[:, ~self.seen[1:]] = -2
            degraded_labels = sims.argmax(1)
        if int(degraded_labels.max()) >= self.num_degraded_clusters or int(
                degraded_labels.min()) < 0:
            raise ValueError(f'degraded_labels must lie in [0, {self.num_degraded_clusters})')
        for k in degraded_labels.unique().tolist():
            self._ema(k + 1, e[degraded_labels == k])

    def forward(self, outputs: Tensor, clean: Optional[Tensor] = None,
                degraded: Optional[Tensor] = None,
                degraded_labels: Optional[Tensor] = None,
                network: Optional[nn.Module] = None) -> Tensor:
        """The loss of restored ``outputs``; in training mode, first update the bank.

        Args:
            outputs (Tensor): Restored images, (N, 3, H, W), in [0, 1].
            clean (Tensor, optional): Real clean photos for the bank.
            degraded (Tensor, optional): Real degraded photos for the bank.
            degraded_labels (Tensor, optional): Their clusters (see :meth:`update`).
            network (nn.Module, optional): The live network whose features embed
                (``embedding='discriminator'``, where it is required).

        Returns:
            Tensor: The loss (scalar).
        """
        if self.training:
            self.update(clean, degraded, degraded_labels, network)
        if not bool(self.seen[0]):
            return outputs.sum() * 0.0
        e = self.embed(outputs, network)
        keep = self.seen.clone()
        logits = e @ self.prototypes[keep].t() / self.temperature
        # the clean prototype is row 0 of the kept ones
        return self.loss_weight * F.cross_entropy(
            logits, torch.zeros(len(e), dtype=torch.long, device=e.device))
