"""IGCL: instance-grained contrastive learning (stage 1's regulariser).

Per sample, the student's output (anchor) is pulled towards its positive (the teacher's
output, or the clean image) and pushed away from negatives (the sample's own degraded
input, and the other samples' inputs in the batch), in several views: image space
(pixels, gradients, frequency amplitude) and a hierarchy of features. Formulas, symbols
and reasons: ``docs/method.md``.
"""
from typing import Hashable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

from ..utils import FrozenPartsMixin
from .utils import build_frozen

#: The views of an image that :func:`image_view` makes and IGCL compares.
IMAGE_VIEWS = ('pixel', 'gradient', 'fft')


def image_view(x: Tensor, view: str) -> Tensor:
    """A weight-free view of images (N, C, H, W).

    Args:
        x (Tensor): Images.
        view (str): ``'pixel'`` (as is), ``'gradient'`` (Sobel magnitude per channel:
            edges and rain streaks), or ``'fft'`` (log amplitude of the 2-D spectrum:
            blur removes high frequencies, noise adds them, haze lowers contrast).

    Returns:
        Tensor: The view, (N, C, H', W').
    """
    if view == 'pixel':
        return x
    if view == 'gradient':
        kx = x.new_tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8
        c = x.shape[1]
        weight = torch.stack([kx, kx.t()]).unsqueeze(1).repeat(c, 1, 1, 1)  # (2C, 1, 3, 3)
        g = F.conv2d(F.pad(x, (1, 1, 1, 1), mode='replicate'), weight, groups=c)
        gx, gy = g[:, 0::2], g[:, 1::2]
        return torch.sqrt(gx * gx + gy * gy + 1e-12)
    if view == 'fft':
        return torch.log1p(torch.fft.rfft2(x, norm='ortho').abs())
    raise ValueError(f'unknown view {view!r}; choose from {IMAGE_VIEWS}')


def _l1(a: Tensor, b: Tensor) -> Tensor:
    """Per-sample mean absolute difference: (N,)."""
    return (a - b).abs().flatten(1).mean(1)


def batch_negative_indices(n: int,
                           max_negatives: int,
                           groups: Optional[Sequence[Optional[Hashable]]] = None
                           ) -> List[List[int]]:
    """Which other samples' inputs serve as batch negatives of each sample.

    Sample ``i`` takes the nearest preceding samples cyclically (``i-1, i-2, ...``, the
    order of ``x.roll(s)``), up to ``max_negatives`` of them, skipping those of its own
    group. A None label is unknown: it differs from every label (another None
    included), so ``groups=[None] * n`` is the same as ``groups=None``.

    Args:
        n (int): Batch size.
        max_negatives (int): At most this many negatives per sample.
        groups (Sequence[Hashable | None], optional): One label per sample (the
            degradation type). Defaults to None (every other sample qualifies).

    Returns:
        list[list[int]]: For each sample, the indices of its batch negatives (possibly
        none: then it has its own input only).

    Raises:
        ValueError: If ``groups`` does not have ``n`` labels.
    """
    if groups is not None and len(groups) != n:
        raise ValueError(f'groups has {len(groups)} labels for a batch of {n}')
    out = []
    for i in range(n):
        chosen = []
        for s in range(1, n):
            if len(chosen) >= max_negatives:
                break
            j = (i - s) % n
            if groups is None or groups[i] is None or groups[j] != groups[i]:
                chosen.append(j)
        out.append(chosen)
    return out


@MODELS.register_module()
class IGCLLoss(FrozenPartsMixin, nn.Module):
    """Instance-grained contrastive loss.

    For sample ``i`` and view ``l`` (image views, then extractor layers) with weight
    ``w_l`` and ``d`` the mean absolute difference:

    - ``pos = d(φ_l(ŷ_i), φ_l(p_i))``
    - ``neg_own = d(φ_l(ŷ_i), φ_l(x_i))``,
      ``neg_batch = mean_{j ∈ J_i} d(φ_l(ŷ_i), φ_l(x_j))``, where ``J_i`` are up to
      ``M`` other samples, of another group than ``i`` when ``groups`` are given
      (:func:`batch_negative_indices`)
    - ``travel = d(φ_l(p_i), φ_l(x_i))``: how far the anchor must move from its input
    - ``'ratio'``:
      ``L_i = Σ_l w_l · pos / ((1 - β)·neg_own + β·neg_batch + γ·travel + ε)``
      (``neg_own`` alone where ``J_i`` is empty or ``β = 0``)
    - ``'infonce'``: ``L_i = Σ_l w_l · -log softmax(-[pos, neg_own, neg_batch_j...] / τ)[0]``
    - ``'distance'``: ``L_i = Σ_l w_l · pos / (mean_j travel_j + ε)``: no negatives,
      a feature-matching (perceptual) loss with each view scaled by how far the batch's
      inputs lie from their positives there, so taps of any scale weigh by ``w_l``. Unlike
      ``'ratio'``, a sample far from its positive (heavy haze) is not divided down by its
      own distance: it pulls hardest.

    The floor ``γ·travel`` keeps the ratio bounded where the anchor sits on its own
    negative (an identity-initialised student with ``β = 0`` or a batch of one: without
    it ``pos / ε`` is about 1e6): by the triangle inequality ``pos ≤ neg_own + travel``,
    so each view's ratio is at most ``max(1 / (1 - β), 1 / γ)`` (``1 / γ`` for ``γ ≤ 1``,
    ``β = 0``), yet it is still zero at the positive and still falls as the anchor
    moves to the positive and away from the negatives.

    Positives and negatives are detached: only the anchor (the student) learns.

    Args:
        views (Sequence[str]): Weight-free image views. Defaults to ``('pixel',
            'gradient')``.
        view_weights (Sequence[float], optional): One weight per view. Defaults to
            all ones.
        extractor (dict | nn.Module, optional): A frozen module whose
            ``forward(x, return_features=True)`` returns ``(out, {name: feature})``
            (our networks and ``FrozenTeacher`` do), for the feature hierarchy; frozen
            by :func:`build_frozen`, which lets a ``FrozenTeacher`` pass gradients
            to the anchor.
            Defaults to None (image views only: works with no weights at all).
        layers (Sequence[str], optional): Extractor taps to use, shallow to deep.
            Required with an extractor.
        layer_weights (Sequence[float], optional): One weight per layer. Defaults to
            ``1 / 2**(L-1-k)``: deeper layers weigh more, as in the precursor's VGG
            weights (1/32 ... 1).
        mode (str): ``'ratio'``, ``'infonce'`` or ``'distance'`` (no negatives).
            Defaults to ``'ratio'``.
        batch_negative_weight (float): β, the share of other samples' inputs among the
            negatives (``'ratio'`` only; 0 uses the own input only). Defaults to 0.5.
        max_batch_negatives (int): M, other samples used per anchor (the nearest before it,
            cyclically; of other groups when ``groups`` are given). Defaults to 4.
        temperature (float): τ of ``'infonce'``. Defaults to 0.1.
        ratio_floor (float): γ of ``'ratio'``: the denominator's floor as a fraction of
            ``d(φ_l(p_i), φ_l(x_i))``; 0 gives the unbounded precursor form. Defaults
            to 0.1 (a ratio of at most 10 per view, with ``β ≤ 0.9``).
        eps (float): ε of ``'ratio'``. Defaults to 1e-7.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        reduction (str): ``'mean'``, ``'sum'`` or ``'none'`` (per sample). Defaults to
            ``'mean'``.
    """

    def __init__(self,
                 views: Sequence[str] = ('pixel', 'gradient'),
                 view_weights: Optional[Sequence[float]] = None,
                 extractor: Union[dict, nn.Module, None] = None,
                 layers: Optional[Sequence[str]] = None,
                 layer_weights: Optional[Sequence[float]] = None,
                 mode: str = 'ratio',
                 batch_negative_weight: float = 0.5,
                 max_batch_negatives: int = 4,
                 temperature: float = 0.1,
                 ratio_floor: float = 0.1,
                 eps: float = 1e-7,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__()
        for v in views:
            if v not in IMAGE_VIEWS:
                raise ValueError(f'unknown view {v!r}; choose from {IMAGE_VIEWS}')
        if mode not in ('ratio', 'infonce', 'distance'):
            raise ValueError(f"mode must be 'ratio', 'infonce' or 'distance', got {mode!r}")
        if reduction not in ('mean', 'sum', 'none'):
            raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        if (not 0 <= batch_negative_weight <= 1 or temperature <= 0 or max_batch_negatives < 0
                or ratio_floor < 0):
            raise ValueError('need 0 <= batch_negative_weight <= 1, temperature > 0, '
                             'max_batch_negatives >= 0 and ratio_floor >= 0')
        if (extractor is None) != (not layers):
            raise ValueError('give layers= exactly when an extractor is given')
        if not views and extractor is None:
            raise ValueError('IGCL needs at least one view or an extractor')
        self.views = tuple(views)
        self.view_weights = list(view_weights) if view_weights is not None else [1.0] * len(
            self.views)
        if len(self.view_weights) != len(self.views):
            raise ValueError('view_weights needs one weight per view')
        self.extractor = build_frozen(extractor)
        self.layers = tuple(layers or ())
        n = len(self.layers)
        self.layer_weights = list(layer_weights) if layer_weights is not None else [
            1.0 / 2**(n - 1 - k) for k in range(n)]
        if len(self.layer_weights) != n:
            raise ValueError('layer_weights needs one weight per layer')
        self.mode = mode
        self.beta = batch_negative_weight
        self.max_batch_negatives = max_batch_negatives
        self.temperature = temperature
        self.ratio_floor = ratio_floor
        self.eps = eps
        self.loss_weight = loss_weight
        self.reduction = reduction

    def _frozen_parts(self) -> Tuple[Optional[nn.Module]]:
        """The frozen extractor stays in eval mode, whatever the loss's own mode."""
        return (self.extractor, )

    def _features(self, x: Tensor, grad: bool) -> List[Tensor]:
        feats = [image_view(x, v) for v in self.views]
        if self.extractor is not None:
            with torch.set_grad_enabled(grad):
                _, taps = self.extractor(x, return_features=True)
            missing = [name for name in self.layers if name not in taps]
            if missing:
                raise KeyError(f'extractor taps {sorted(taps)} lack {missing}')
            feats += [taps[name] for name in self.layers]
        return feats

    def identity(self, restored_clean: Tensor, clean: Tensor, degraded: Tensor) -> Tensor:
        """Do no harm on clean images: how far restoring a clean image moves it, in every
        view, relative to how far the degradation moves it.

        ``L_i = Σ_l w_l · d(φ_l(R(y_i)), φ_l(y_i)) / (d(φ_l(x_i), φ_l(y_i)) + ε)``, with
        ``R(y_i)`` the restorer's output on the clean image. It is zero when the restorer
        leaves the clean image's views (a detector's features, with
        :class:`DetectorFeatureExtractor`) unchanged; 1 means the change is as large as
        the degradation's. IGCL's ratio cannot say this for a clean input: there the
        positive is the negative. ``loss_weight`` is not applied (the caller weighs it).

        Args:
            restored_clean (Tensor): The restorer's outputs on the clean images,
                (N, C, H, W); the only argument that learns.
            clean (Tensor): The clean images, same shape.
            degraded (Tensor): Their degraded versions (the scale of each view), same
                shape.

        Returns:
            Tensor: The loss (a scalar, or (N,) with ``reduction='none'``).
        """
        if not restored_clean.shape == clean.shape == degraded.shape:
            raise ValueError('restored_clean, clean and degraded must have the same shape')
        fa = self._features(restored_clean, grad=True)
        with torch.no_grad():
            fp = self._features(clean.detach(), grad=False)
            fn = self._features(degraded.detach(), grad=False)
        per_sample = restored_clean.new_zeros(restored_clean.shape[0])
        for w, a, p, x in zip(self.view_weights + self.layer_weights, fa, fp, fn):
            per_sample = per_sample + w * _l1(a, p) / (_l1(p, x) + self.eps)
        if self.reduction == 'mean':
            return per_sample.mean()
        return per_sample.sum() if self.reduction == 'sum' else per_sample

    def forward(self,
                anchor: Tensor,
                positive: Tensor,
                negative: Tensor,
                groups: Optional[Sequence[Optional[Hashable]]] = None) -> Tensor:
        """Compute the loss.

        Args:
            anchor (Tensor): The student's outputs, (N, C, H, W).
            positive (Tensor): Teacher outputs or clean images, same shape.
            negative (Tensor): The degraded inputs, same shape.
            groups (Sequence[Hashable | None], optional): One label per sample, its
                degradation type (None: unknown). Batch negatives of sample ``i`` then
                come only from samples of another group; a sample with none has its own
                negative only. Defaults to None (any other sample).

        Returns:
            Tensor: The loss (a scalar, or (N,) with ``reduction='none'``).
        """
        if not anchor.shape == positive.shape == negative.shape:
            raise ValueError(f'anchor {tuple(anchor.shape)}, positive {tuple(positive.shape)} '
                             f'and negative {tuple(negative.shape)} must have the same shape')
        n = anchor.shape[0]
        others = batch_negative_indices(n, self.max_batch_negatives, groups)
        k = max(map(len, others))
        # (N, K) indices, padded with the sample itself; mask marks the real negatives
        index = anchor.new_tensor([js + [i] * (k - len(js)) for i, js in enumerate(others)],
                                  dtype=torch.long).view(n, k)
        mask = anchor.new_tensor([[True] * len(js) + [False] * (k - len(js)) for js in others],
                                 dtype=torch.bool).view(n, k)
        count = mask.sum(1)
        fa = self._features(anchor, grad=True)
        with torch.no_grad():
            fp = self._features(positive.detach(), grad=False)
            fn = self._features(negative.detach(), grad=False)
        weights = self.view_weights + self.layer_weights
        per_sample = anchor.new_zeros(n)
        for w, a, p, x in zip(weights, fa, fp, fn):
            pos = _l1(a, p)
            own = _l1(a, x)
            batch = [_l1(a, x[index[:, c]]) for c in range(k)]  # (N,) each
            if self.mode == 'ratio':
                neg = own
                if k and self.beta > 0:
                    mean = (torch.stack(batch, 1) * mask).sum(1) / count.clamp_min(1)
                    neg = torch.where(count > 0, (1 - self.beta) * own + self.beta * mean, own)
                floor = self.ratio_floor * _l1(p, x)
                per_sample = per_sample + w * pos / (neg + floor + self.eps)
            elif self.mode == 'distance':
                per_sample = per_sample + w * pos / (_l1(p, x).mean() + self.eps)
            else:
                logits = -torch.stack([pos, own, *batch], dim=1) / self.temperature
                if k:
                    keep = torch.cat([mask.new_ones(n, 2), mask], dim=1)
                    logits = logits.masked_fill(~keep, float('-inf'))
                per_sample = per_sample + w * -F.log_softmax(logits, dim=1)[:, 0]
        if self.reduction == 'mean':
            return self.loss_weight * per_sample.mean()
        if self.reduction == 'sum':
            return self.loss_weight * per_sample.sum()
        return self.loss_weight * per_sample
