"""Stage 1: multi-teacher knowledge distillation into one student, regularised by IGCL."""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from mmengine.logging import print_log
from torch import Tensor, nn

from ...utils.constants import DEGRADATION_TYPES
from ...utils.teacher_configs import resolve_teachers
from .utils import StudentEditModel, sample_types


def _standardise(x: Tensor) -> Tensor:
    """Per sample and channel: zero mean, unit spread over the image (feature scales of
    different teachers become comparable)."""
    mean = x.mean((2, 3), keepdim=True)
    std = x.std((2, 3), keepdim=True, unbiased=False)
    return (x - mean) / (std + 1e-6)


def _drop_frozen(module: nn.Module, state: dict, prefix: str, local_metadata) -> dict:
    """State-dict hook: leave the frozen teachers and feature extractor out."""
    for key in [k for k in state if k[len(prefix):].startswith(module.FROZEN_PREFIXES)]:
        del state[key]
    return state


def _fill_frozen(module: nn.Module, state: dict, prefix: str, *args) -> None:
    """Load pre-hook: take the frozen modules' weights from the live model."""
    for name, value in module.named_parameters(recurse=True):
        if name.startswith(module.FROZEN_PREFIXES):
            state.setdefault(prefix + name, value.detach())
    for name, value in module.named_buffers(recurse=True):
        if name.startswith(module.FROZEN_PREFIXES):
            state.setdefault(prefix + name, value)


@MODELS.register_module()
class UniRemovalDistiller(StudentEditModel):
    """One student learns every degradation from frozen specialist teachers.

    A batch mixes degradations; each sample is routed to the teacher of its
    ``degradation_type`` (from the data sample's metainfo). Losses, each optional and
    prefixed by role:

    - ``sup.loss_pix``: ``pixel_loss(ŷ, y)`` on samples with a clean image (all of
      them for synthetic pairs; the only signal for types without a teacher);
    - ``distill.loss_out``: ``Σ_k Σ_{i∈k} (1/N) mean_p w_i(p) ρ(ŷ_i(p) − T_k(x_i)(p))`` on
      samples with a teacher (``ρ`` = ``distill_loss`` per element). Where the sample has
      a clean image ``y_i``, ``w`` trusts the teacher only as far as it is reliable:
      ``r_i = clamp((e(x_i, y_i) − e(T_k(x_i), y_i)) / max(e(x_i, y_i), ε), 0, 1)``, the
      share of the input's error that the teacher removes (per sample, or per pixel
      over a window),
      times (``teacher_bound``) ``1[|T_k(x_i) − y_i| < |ŷ_i − y_i|]``: the teacher
      pulls only where it is still closer to the clean image than the student. A
      teacher no better than its input pulls nothing. The teacher's output comes from
      the batch (``ref_img``, :class:`~uniremoval_mm.datasets.TeacherCacheDataset`)
      when it was cached, else from running the teacher;
    - ``distill.loss_feat``: ``‖A(F_s) − std(F_t)‖₁`` over ``feature_pairs``, where ``A``
      is a learned 1x1 adapter from a student tap to a teacher tap (resized to the
      teacher's size) and ``std`` standardises the teacher feature per channel;
      skipped for teachers without taps;
    - ``igcl.loss``: :class:`IGCLLoss` with the clean image as positive (or the
      teacher's output, see ``positive``; the teacher's output where there is no clean
      image), the degraded inputs as negatives (other samples' inputs from other
      degradation types).
    - ``igcl.loss_identity`` (``clean_identity_weight > 0``): the student also restores
      the clean images ``y``, and :meth:`IGCLLoss.identity` keeps ``S(y)`` at ``y`` in
      IGCL's views (with a detector as IGCL's extractor: do no harm on clean images in
      the detector's features).
    - ``sup.loss_identity`` (``clean_identity_loss``): ``ρ(S(y), y)``, the student
      also restores the clean images and must give them back unchanged, in image space
      and unnormalised (a clean photo is one more kind, "none", whose target is its
      input). It teaches the student to tell a clean image from a degraded one, so
      that it stops applying the average correction (e.g. dehazing) to images that need
      none.

    Saved checkpoints leave out the frozen teachers and IGCL's extractor (they are
    rebuilt from their own configs; a teacher's licence may forbid redistribution).

    Prediction, validation and testing are the student's (mmagic's ``BaseEditModel``).

    Args:
        generator (dict): The student, e.g. ``dict(type='UniRemovalNetS')``.
        teachers (dict[str, dict | None]): Teacher config per degradation type; None
            for a type without a teacher.
        pixel_loss (dict, optional): Ground-truth loss. Defaults to Charbonnier, 1.0.
        distill_loss (dict, optional): Output-distillation loss ``ρ`` (built with
            ``reduction='none'``). Defaults to Charbonnier, 0.5.
        distill_reliability (str): ``'sample'``, ``'pixel'`` or ``'none'`` (trust every
            teacher fully, the plain multi-teacher distillation). Defaults to
            ``'sample'``.
        teacher_bound (bool): Pull towards the teacher only where it is closer to the
            clean image than the student. Defaults to True.
        reliability_window (int): Odd box window of ``'pixel'`` reliability. Defaults
            to 7.
        reliability_eps (float): ``ε`` of the reliability ratio (images in [0, 1]).
            Defaults to 1/255.
        feature_pairs (dict[str, list[tuple[str, str]]], optional): Per type, pairs of
            (student tap, teacher tap) to distil. Defaults to None (no feature term).
        feature_loss_weight (float): Weight of ``distill.loss_feat``. Defaults to 0.1.
        igcl (dict, optional): :class:`IGCLLoss` config; None disables it. Defaults to
            ``dict(type='IGCLLoss', loss_weight=0.1)``.
        positive (str): IGCL positive: ``'gt'`` (the clean image; the teacher's output
            for samples without one) or ``'teacher'`` (the teacher's output where the
            sample has a teacher, else the clean image). Defaults to ``'gt'``.
        clean_identity_weight (float): Weight of ``igcl.loss_identity``; 0 turns it off
            (it costs one more student pass, on the clean images). Needs ``igcl``.
            Defaults to 0.
        clean_identity_loss (dict, optional): Loss ``ρ`` of ``sup.loss_identity``,
            e.g. ``dict(type='CharbonnierLoss', loss_weight=0.2)`` (0.2: the clean images
            weigh as much as two of a batch's ten degraded ones). Shares the student's
            pass on the clean images with ``clean_identity_weight``. Defaults to None
            (off).
        teacher_fallbacks (dict[str, dict | None], optional): What replaces a teacher
            whose local checkpoint file is missing (another teacher config, or None:
            ground truth only). Defaults to None.
        missing_teacher (str): ``'fallback'`` (use ``teacher_fallbacks``, with a
            warning) or ``'error'`` (stop, naming the config field). Defaults to
            ``'fallback'``.
        degradation_types (Sequence[str]): The types the data may carry. Every key of
            ``teachers``, ``teacher_fallbacks`` and ``feature_pairs`` must be one (a typo
            such as ``hazy`` for ``haze`` would silently train without that teacher), and
            so must every training sample's type. Defaults to
            ``('haze', 'rain', 'blur', 'noise', 'mixed')``.
        type_key (str): Metainfo key of the degradation type. Defaults to
            ``'degradation_type'``.
        init_checkpoint (str, optional): Start the student from these weights: a
            released student (``checkpoints/*.pth``), a stage-1 checkpoint (its
            ``generator.`` keys) or a work dir (its latest checkpoint), read with
            ``weights_only=True``; for tuning stages. Unlike ``load_from`` it takes the
            released files and leaves the optimiser and the iteration count new.
            Defaults to None (the student's own initialisation: the identity).
        train_cfg (dict, optional): mmagic's. Defaults to None.
        test_cfg (dict, optional): mmagic's. Defaults to None.
        init_cfg (dict, optional): mmengine's. Defaults to None.
        data_preprocessor (dict, optional): mmagic's ``DataPreprocessor`` config.
            Defaults to None.
    """

    def __init__(self,
                 generator: dict,
                 teachers: Dict[str, Optional[dict]],
                 pixel_loss: Optional[dict] = dict(type='CharbonnierLoss', loss_weight=1.0),
                 distill_loss: Optional[dict] = dict(type='CharbonnierLoss', loss_weight=0.5),
                 distill_reliability: str = 'sample',
                 teacher_bound: bool = True,
                 reliability_window: int = 7,
                 reliability_eps: float = 1.0 / 255,
                 feature_pairs: Optional[Dict[str, Sequence[Tuple[str, str]]]] = None,
                 feature_loss_weight: float = 0.1,
                 igcl: Optional[dict] = dict(type='IGCLLoss', loss_weight=0.1),
                 positive: str = 'gt',
                 clean_identity_weight: float = 0.0,
                 clean_identity_loss: Optional[dict] = None,
                 teacher_fallbacks: Optional[Dict[str, Optional[dict]]] = None,
                 missing_teacher: str = 'fallback',
                 degradation_types: Sequence[str] = DEGRADATION_TYPES,
                 type_key: str = 'degradation_type',
                 init_checkpoint: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        if positive not in ('teacher', 'gt'):
            raise ValueError(f"model.positive must be 'teacher' or 'gt', got {positive!r}")
        if distill_reliability not in ('none', 'sample', 'pixel'):
            raise ValueError("model.distill_reliability must be 'none', 'sample' or 'pixel', "
                             f'got {distill_reliability!r}')
        if reliability_window < 1 or reliability_window % 2 == 0 or reliability_eps <= 0:
            raise ValueError('model.reliability_window must be odd and >= 1 and '
                             f'model.reliability_eps > 0, got {reliability_window}, '
                             f'{reliability_eps}')
        if missing_teacher not in ('fallback', 'error'):
            raise ValueError("model.missing_teacher must be 'fallback' or 'error', got "
                             f'{missing_teacher!r}')
        if clean_identity_weight < 0 or (clean_identity_weight > 0 and igcl is None):
            raise ValueError('model.clean_identity_weight must be >= 0, and > 0 only with '
                             f'model.igcl, got {clean_identity_weight}')
        if pixel_loss is None and distill_loss is None:
            raise ValueError('model.pixel_loss and model.distill_loss cannot both be None')
        self.degradation_types = tuple(degradation_types)
        if not self.degradation_types:
            raise ValueError('model.degradation_types must not be empty')
        for field, mapping in (('teachers', teachers), ('teacher_fallbacks', teacher_fallbacks),
                               ('feature_pairs', feature_pairs)):
            for kind in mapping or {}:
                if kind not in self.degradation_types:
                    raise ValueError(
                        f'model.{field}.{kind}: {kind!r} is not a degradation type '
                        f'(model.degradation_types: {list(self.degradation_types)})')
        super().__init__(generator, pixel_loss, init_checkpoint,
                         'the student to start from: a released file or a stage-1 run',
                         train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg,
                         data_preprocessor=data_preprocessor)
        # per element: the reliability weights and the bound are applied here
        self.distill_loss = (MODELS.build(dict(distill_loss, reduction='none'))
                             if distill_loss is not None else None)
        self.distill_reliability = distill_reliability
        self.teacher_bound = teacher_bound
        self.reliability_window = reliability_window
        self.reliability_eps = reliability_eps
        self.igcl = MODELS.build(igcl) if igcl is not None else None
        self.positive = positive
        self.clean_identity_weight = float(clean_identity_weight)
        self.clean_identity_loss = (MODELS.build(clean_identity_loss)
                                    if clean_identity_loss is not None else None)
        self.type_key = type_key
        self.teachers = nn.ModuleDict()
        resolved = self._resolve_teachers(teachers, teacher_fallbacks or {}, missing_teacher)
        # kinds whose configured teacher was missing and replaced by its fallback
        self._fell_back = {k for k, cfg in resolved.items() if cfg != teachers.get(k)}
        for kind, cfg in resolved.items():
            if cfg is not None:
                self.teachers[kind] = MODELS.build(dict(cfg, _scope_='mmagic')
                                                   if '_scope_' not in cfg else cfg)
        self.feature_loss_weight = feature_loss_weight
        self.feature_pairs = {k: [tuple(p) for p in v] for k, v in (feature_pairs or {}).items()}
        self.adapters = nn.ModuleDict()
        self._build_adapters()
        # Frozen networks are rebuilt from their own configs: saved checkpoints leave them
        # out (a teacher's licence may forbid redistribution, e.g. DnCNN's GPL), and
        # loading fills them in from the live modules.
        self._register_state_dict_hook(_drop_frozen)
        self._register_load_state_dict_pre_hook(_fill_frozen, with_module=True)

    #: Sub-modules that checkpoints leave out.
    FROZEN_PREFIXES = ('teachers.', 'igcl.extractor.')

    @staticmethod
    def _resolve_teachers(teachers, fallbacks, policy) -> Dict[str, Optional[dict]]:
        return resolve_teachers(teachers, fallbacks, policy)

    def _build_adapters(self) -> None:
        student_channels = getattr(self.generator, 'feature_channels', {})
        for kind in sorted(self._fell_back & set(self.feature_pairs)):
            # the pairs name the configured teacher's taps, not the fallback's
            print_log(f'model.feature_pairs.{kind}: dropped, the teacher they were written '
                      'for is missing and its fallback is in use', logger='current', level=30)
            del self.feature_pairs[kind]
        for kind, pairs in self.feature_pairs.items():
            teacher = self.teachers[kind] if kind in self.teachers else None
            if teacher is None or not getattr(teacher, 'has_features', False):
                raise ValueError(f'model.feature_pairs.{kind}: no teacher with feature taps '
                                 f'for {kind!r}')
            for s_tap, t_tap in pairs:
                if s_tap not in student_channels:
                    raise ValueError(f'model.feature_pairs.{kind}: the student has no tap '
                                     f'{s_tap!r} (it has {sorted(student_channels)})')
                if t_tap not in teacher.feature_channels:
                    raise ValueError(f'model.feature_pairs.{kind}: the teacher has no tap '
                                     f'{t_tap!r} (it has {sorted(teacher.feature_channels)})')
                self.adapters[f'{kind}__{s_tap}__{t_tap}'] = nn.Conv2d(
                    student_channels[s_tap], teacher.feature_channels[t_tap], 1)

    def _cached_teacher_outputs(self, data_samples, n: int,
                                like: Tensor) -> Tuple[Optional[Tensor], List[bool]]:
        """Teacher outputs that came with the batch (:class:`TeacherCacheDataset`).

        They ride as mmagic's ``ref_img`` (0-255, the input's channel order), flagged per
        sample by the ``has_teacher`` metainfo; they are normalised here as the
        pre-processor normalises ``gt_img`` (its ``mean`` / ``std``).
        """
        if data_samples is None or 'ref_img' not in data_samples:
            return None, [False] * n
        flags = data_samples.metainfo.get('has_teacher')
        flags = [bool(f) for f in flags] if isinstance(flags, (list, tuple)) else [
            bool(flags)] * n
        ref = data_samples.ref_img.to(like)
        pre = self.data_preprocessor
        mean, std = getattr(pre, 'mean', None), getattr(pre, 'std', None)
        if mean is not None and std is not None:
            ref = (ref - mean.view(1, -1, 1, 1).to(like)) / std.view(1, -1, 1, 1).to(like)
        elif ref.dtype == torch.uint8 or ref.max() > 1.5:
            ref = ref / 255.0
        return ref, flags

    def reliability(self, teacher: Tensor, inputs: Tensor, gt: Tensor) -> Tensor:
        """How far the teacher can be trusted, per sample or per pixel, in [0, 1].

        ``r = clamp((e(x, y) - e(T(x), y)) / max(e(x, y), eps), 0, 1)``: the share of the
        input's error (mean absolute difference to the clean image, over channels and, for
        ``'sample'``, over the image; for ``'pixel'``, over a box window) that the
        teacher removes. A teacher no better than its input gets 0.

        Args:
            teacher (Tensor): Teacher outputs, (N, C, H, W).
            inputs (Tensor): The degraded inputs, same shape.
            gt (Tensor): The clean images, same shape.

        Returns:
            Tensor: (N, 1, 1, 1) for ``'sample'``, (N, 1, H, W) for ``'pixel'``.
        """
        e_t = (teacher - gt).abs().mean(1, keepdim=True)
        e_x = (inputs - gt).abs().mean(1, keepdim=True)
        if self.distill_reliability == 'sample':
            e_t, e_x = e_t.mean((2, 3), keepdim=True), e_x.mean((2, 3), keepdim=True)
        else:
            k = self.reliability_window
            e_t = F.avg_pool2d(e_t, k, 1, k // 2, count_include_pad=False)
            e_x = F.avg_pool2d(e_x, k, 1, k // 2, count_include_pad=False)
        return ((e_x - e_t) / e_x.clamp_min(self.reliability_eps)).clamp(0, 1)

    def _distill_term(self, student: Tensor, teacher: Tensor, inputs: Tensor,
                      gt: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        """Per-element distillation loss, weighted by reliability and the bound; (loss,
        mean weight or None)."""
        per = self.distill_loss(student, teacher)
        if gt is None or (self.distill_reliability == 'none' and not self.teacher_bound):
            return per.mean(), None
        with torch.no_grad():
            w = per.new_ones(per.shape[0], 1, 1, 1)
            if self.distill_reliability != 'none':
                w = w * self.reliability(teacher, inputs, gt)
            if self.teacher_bound:
                closer = ((teacher - gt).abs().mean(1, keepdim=True)
                          < (student.detach() - gt).abs().mean(1, keepdim=True))
                w = w * closer.to(per.dtype)
        return (per * w).mean(), w.mean()

    def forward_train(self, inputs: Tensor, data_samples=None, **kwargs) -> Dict[str, Tensor]:
        """The stage-1 losses of a mixed batch.

        Args:
            inputs (Tensor): Degraded images in [0, 1] (after the preprocessor).
            data_samples (DataSample): Stacked samples with ``gt_img`` and the types
                (and, from a teacher cache, ``ref_img`` with ``has_teacher``).

        Returns:
            dict[str, Tensor]: Losses by role, and ``distill.reliability`` (the mean
            weight of the output term: logged, not a loss).
        """
        n = inputs.shape[0]
        want_feats = bool(self.adapters)
        if want_feats:
            student, s_feats = self.generator(inputs, return_features=True)
        else:
            student, s_feats = self.generator(inputs), {}
        gt = data_samples.gt_img if 'gt_img' in data_samples else None
        types = sample_types(data_samples, self.type_key, n)
        unknown = sorted({str(t) for t in types if t is not None} - set(self.degradation_types))
        if unknown:
            raise ValueError(f'training samples of type {unknown}, which is not in '
                             f'model.degradation_types {list(self.degradation_types)}: '
                             'make the model and the dataset\'s degradation_types agree')
        cached, has_cached = self._cached_teacher_outputs(data_samples, n, inputs)
        losses: Dict[str, Tensor] = {}
        # IGCL positive per sample: the clean image, or the teacher's output
        # (positive='teacher', or no clean image); samples with neither are left out.
        positive = gt.detach().clone() if gt is not None else torch.zeros_like(student)
        has_positive = [gt is not None] * n
        out_terms, feat_terms, weights = [], [], []
        for kind, teacher in self.teachers.items():
            idx = [i for i, t in enumerate(types) if t == kind]
            if not idx:
                continue
            index = torch.tensor(idx, device=inputs.device)
            pairs = self.feature_pairs.get(kind, [])
            if cached is not None and not pairs and all(has_cached[i] for i in idx):
                t_out, t_feats = cached[index], {}
            else:
                t_out, t_feats = teacher(inputs[index], return_features=True)
            if self.distill_loss is not None:
                term, weight = self._distill_term(student[index], t_out, inputs[index],
                                                  gt[index] if gt is not None else None)
                out_terms.append(term * len(idx) / n)
                if weight is not None:
                    weights.append(weight * len(idx))
            if self.positive == 'teacher' or gt is None:
                positive[index] = t_out
                for i in idx:
                    has_positive[i] = True
            for s_tap, t_tap in pairs:
                adapter = self.adapters[f'{kind}__{s_tap}__{t_tap}']
                target = _standardise(t_feats[t_tap])
                pred = adapter(s_feats[s_tap][index])
                if pred.shape[-2:] != target.shape[-2:]:
                    pred = F.interpolate(pred, size=target.shape[-2:], mode='bilinear',
                                         align_corners=False)
                feat_terms.append(F.l1_loss(pred, target) * len(idx) / n)
        if out_terms:
            losses['distill.loss_out'] = torch.stack(out_terms).sum()
        if weights:
            losses['distill.reliability'] = (torch.stack(weights).sum()
                                             / sum(t in self.teachers for t in types)).detach()
        if feat_terms:
            losses['distill.loss_feat'] = self.feature_loss_weight * torch.stack(feat_terms).sum()
        if self.use_pixel_loss and gt is not None:
            losses['sup.loss_pix'] = self.pixel_loss(student, gt)
        if self.igcl is not None and any(has_positive):
            keep = [i for i in range(n) if has_positive[i]]
            sel = torch.tensor(keep, device=inputs.device)
            losses['igcl.loss'] = self.igcl(student[sel], positive[sel], inputs[sel],
                                            groups=[types[i] for i in keep])
        if (self.clean_identity_weight > 0 or self.clean_identity_loss is not None) \
                and gt is not None:
            restored_clean = self.generator(gt)
            if self.clean_identity_weight > 0:
                losses['igcl.loss_identity'] = self.clean_identity_weight * self.igcl.identity(
                    restored_clean, gt, inputs)
            if self.clean_identity_loss is not None:
                losses['sup.loss_identity'] = self.clean_identity_loss(restored_clean, gt)
        if not any(k.endswith('loss') or '.loss' in k for k in losses):
            raise RuntimeError('no loss for this batch: no clean images and no sample with a '
                               f'teacher (types {sorted(set(map(str, types)))}, teachers '
                               f'{sorted(self.teachers)})')
        return losses
