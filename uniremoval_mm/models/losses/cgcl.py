"""CGCL: cluster-grained contrastive learning (stage 2's regulariser).

Restored outputs are pulled towards the prototype of the real-clean cluster and pushed
away from the prototypes of degraded clusters. Prototypes live in an EMA memory bank
(registered buffers) fed by embeddings of real clean photos and real degraded photos.
Formulas, symbols and reasons: ``docs/method.md``.
"""
from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

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
class CGCLLoss(nn.Module):
    """Cluster-grained contrastive loss with an EMA prototype memory bank.

    With ``e = normalize(embed(ŷ))``, prototypes ``c_0`` (real clean) and ``c_1..c_K``
    (degraded clusters), cosine similarity ``s``:

    ``L = mean_i -log( exp(s(e_i, c_0)/τ) / Σ_{k seen} exp(s(e_i, c_k)/τ) )``

    and, in training mode, ``c_k ← normalize(m·c_k + (1 - m)·mean(e of cluster k))`` from
    the real clean / degraded embeddings of the batch (no gradient). Degraded clusters
    come from ``degraded_labels`` (one per degradation type) or, without labels, from
    online k-means (nearest prototype). Clusters not yet seen are left out; before the
    clean prototype is seen the loss is 0.

    Args:
        num_degraded_clusters (int): K. Defaults to 4.
        momentum (float): m of the EMA. Defaults to 0.9.
        temperature (float): τ. Defaults to 0.1.
        encoder (dict | nn.Module, optional): A frozen module whose
            ``forward(x, return_features=True)`` gives taps; ``layers`` of them are
            average-pooled and concatenated into the embedding. Defaults to None (the
            weight-free :func:`degradation_descriptor`, standardised by running
            statistics).
        layers (Sequence[str], optional): Encoder taps to pool. Required with an encoder.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
    """

    def __init__(self,
                 num_degraded_clusters: int = 4,
                 momentum: float = 0.9,
                 temperature: float = 0.1,
                 encoder: Union[dict, nn.Module, None] = None,
                 layers: Optional[Sequence[str]] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if num_degraded_clusters < 1 or not 0 <= momentum < 1 or temperature <= 0:
            raise ValueError('need num_degraded_clusters >= 1, 0 <= momentum < 1 and '
                             'temperature > 0')
        if (encoder is None) != (not layers):
            raise ValueError('give layers= exactly when an encoder is given')
        self.encoder = build_frozen(encoder)
        self.layers = tuple(layers or ())
        self.num_degraded_clusters = num_degraded_clusters
        self.momentum = momentum
        self.temperature = temperature
        self.loss_weight = loss_weight
        if encoder is None:
            dim = 7
        else:
            channels = getattr(self.encoder, 'feature_channels', {})
            missing = [name for name in self.layers if name not in channels]
            if missing:
                raise ValueError(f'the encoder has no taps {missing} (it has {sorted(channels)})')
            dim = sum(channels[name] for name in self.layers)
        self.register_buffer('prototypes', torch.zeros(num_degraded_clusters + 1, dim))
        self.register_buffer('seen', torch.zeros(num_degraded_clusters + 1, dtype=torch.bool))
        # running mean / variance of the descriptor, so its 7 statistics weigh alike
        self.register_buffer('stat_mean', torch.zeros(dim))
        self.register_buffer('stat_var', torch.ones(dim))
        self.register_buffer('stat_seen', torch.zeros((), dtype=torch.bool))

    def train(self, mode: bool = True) -> 'CGCLLoss':
        """Keep the encoder frozen in eval mode.

        Args:
            mode (bool): Training mode of the loss (updates the memory bank).

        Returns:
            CGCLLoss: self.
        """
        super().train(mode)
        if self.encoder is not None:
            self.encoder.eval()
        return self

    def embed(self, x: Tensor) -> Tensor:
        """Unit-length embeddings of images (N, 3, H, W) in [0, 1]: (N, D)."""
        if self.encoder is None:
            z = degradation_descriptor(x)
            z = (z - self.stat_mean) / (self.stat_var + 1e-6).sqrt()
        else:
            _, taps = self.encoder(x, return_features=True)
            z = torch.cat([taps[name].mean((2, 3)) for name in self.layers], 1)
        return F.normalize(z, dim=1)

    @torch.no_grad()
    def _update_stats(self, *images: Optional[Tensor]) -> None:
        batch = [img for img in images if img is not None]
        if self.encoder is not None or not batch:
            return
        z = degradation_descriptor(torch.cat(batch))
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
               degraded_labels: Optional[Tensor] = None) -> None:
        """Feed real clean / degraded photos into the memory bank.

        Args:
            clean (Tensor, optional): Real clean photos, (N, 3, H, W).
            degraded (Tensor, optional): Real degraded photos, (M, 3, H, W).
            degraded_labels (Tensor, optional): Cluster of each degraded photo, in
                [0, K); None: nearest prototype (online k-means).
        """
        self._update_stats(clean, degraded)
        if clean is not None and len(clean):
            self._ema(0, self.embed(clean))
        if degraded is None or not len(degraded):
            return
        e = self.embed(degraded)
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
                degraded_labels: Optional[Tensor] = None) -> Tensor:
        """The loss of restored ``outputs``; in training mode, first update the bank.

        Args:
            outputs (Tensor): Restored images, (N, 3, H, W), in [0, 1].
            clean (Tensor, optional): Real clean photos for the bank.
            degraded (Tensor, optional): Real degraded photos for the bank.
            degraded_labels (Tensor, optional): Their clusters (see :meth:`update`).

        Returns:
            Tensor: The loss (scalar).
        """
        if self.training:
            self.update(clean, degraded, degraded_labels)
        if not bool(self.seen[0]):
            return outputs.sum() * 0.0
        e = self.embed(outputs)
        keep = self.seen.clone()
        logits = e @ self.prototypes[keep].t() / self.temperature
        # the clean prototype is row 0 of the kept ones
        return self.loss_weight * F.cross_entropy(
            logits, torch.zeros(len(e), dtype=torch.long, device=e.device))
