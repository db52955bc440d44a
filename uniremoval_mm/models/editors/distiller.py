"""Stage 1: multi-teacher knowledge distillation into one student, regularised by IGCL."""
import copy
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmagic.models.base_models import BaseEditModel
from mmagic.registry import MODELS
from mmengine.logging import print_log
from torch import Tensor, nn

from ...datasets.synthetic_paired import DEGRADATION_TYPES
from .utils import missing_local_checkpoint, sample_types


def _standardise(x: Tensor) -> Tensor:
    """Per sample and channel: zero mean, unit spread over the image (feature scales of
    different teachers become comparable)."""
    mean = x.mean((2, 3), keepdim=True)
    std = x.std((2, 3), keepdim=True, unbiased=False)
    return (x - mean) / (std + 1e-6)


@MODELS.register_module()
class UniRemovalDistiller(BaseEditModel):
    """One student learns every degradation from frozen specialist teachers.

    A batch mixes degradations; each sample is routed to the teacher of its
    ``degradation_type`` (from the data sample's metainfo). Losses, each optional and
    prefixed by role:

    - ``sup.loss_pix``: ``pixel_loss(ŷ, y)`` on samples with a clean image (all of
      them for synthetic pairs; the only signal for types without a teacher);
    - ``distill.loss_out``: ``distill_loss(ŷ_i, T_k(x_i))`` on samples with a teacher;
    - ``distill.loss_feat``: ``‖A(F_s) − std(F_t)‖₁`` over ``feature_pairs``, where ``A``
      is a learned 1x1 adapter from a student tap to a teacher tap (resized to the
      teacher's size) and ``std`` standardises the teacher feature per channel;
      skipped for teachers without taps;
    - ``igcl.loss``: :class:`IGCLLoss` with the teacher's output as positive (or ``y``,
      see ``positive``) and the degraded inputs as negatives; each sample's batch
      negatives are inputs of other degradation types (``groups`` are the types).

    Prediction, validation and testing are the student's (mmagic's ``BaseEditModel``).

    Args:
        generator (dict): The student, e.g. ``dict(type='UniRemovalNetS')``.
        teachers (dict[str, dict | None]): Teacher config per degradation type; None
            for a type without a teacher.
        pixel_loss (dict, optional): Ground-truth loss. Defaults to Charbonnier, 0.5.
        distill_loss (dict, optional): Output-distillation loss. Defaults to
            Charbonnier, 1.0.
        feature_pairs (dict[str, list[tuple[str, str]]], optional): Per type, pairs of
            (student tap, teacher tap) to distil. Defaults to None (no feature term).
        feature_loss_weight (float): Weight of ``distill.loss_feat``. Defaults to 0.1.
        igcl (dict, optional): :class:`IGCLLoss` config; None disables it. Defaults to
            ``dict(type='IGCLLoss', loss_weight=0.1)``.
        positive (str): IGCL positive: ``'teacher'`` (the teacher's output where the
            sample has a teacher, else the clean image) or ``'gt'``. Defaults to
            ``'teacher'``.
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
        train_cfg (dict, optional): mmagic's. Defaults to None.
        test_cfg (dict, optional): mmagic's. Defaults to None.
        init_cfg (dict, optional): mmengine's. Defaults to None.
        data_preprocessor (dict, optional): mmagic's ``DataPreprocessor`` config.
            Defaults to None.
    """

    def __init__(self,
                 generator: dict,
                 teachers: Dict[str, Optional[dict]],
                 pixel_loss: Optional[dict] = dict(type='CharbonnierLoss', loss_weight=0.5),
                 distill_loss: Optional[dict] = dict(type='CharbonnierLoss', loss_weight=1.0),
                 feature_pairs: Optional[Dict[str, Sequence[Tuple[str, str]]]] = None,
                 feature_loss_weight: float = 0.1,
                 igcl: Optional[dict] = dict(type='IGCLLoss', loss_weight=0.1),
                 positive: str = 'teacher',
                 teacher_fallbacks: Optional[Dict[str, Optional[dict]]] = None,
                 missing_teacher: str = 'fallback',
                 degradation_types: Sequence[str] = DEGRADATION_TYPES,
                 type_key: str = 'degradation_type',
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        if positive not in ('teacher', 'gt'):
            raise ValueError(f"model.positive must be 'teacher' or 'gt', got {positive!r}")
        if missing_teacher not in ('fallback', 'error'):
            raise ValueError("model.missing_teacher must be 'fallback' or 'error', got "
                             f'{missing_teacher!r}')
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
        super().__init__(generator=generator, pixel_loss=pixel_loss or dict(type='L1Loss'),
                         train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg,
                         data_preprocessor=data_preprocessor)
        self.use_pixel_loss = pixel_loss is not None
        self.distill_loss = MODELS.build(distill_loss) if distill_loss is not None else None
        self.igcl = MODELS.build(igcl) if igcl is not None else None
        self.positive = positive
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

    @staticmethod
    def _resolve_teachers(teachers, fallbacks, policy) -> Dict[str, Optional[dict]]:
        resolved = {}
        for kind, cfg in teachers.items():
            missing = missing_local_checkpoint((cfg or {}).get('checkpoint'))
            if missing is None:
                resolved[kind] = copy.deepcopy(cfg)
                continue
            if policy == 'error' or kind not in fallbacks:
                raise FileNotFoundError(
                    f'model.teachers.{kind}.checkpoint: {missing} not found'
                    + ('' if policy == 'error' else
                       f' (and model.teacher_fallbacks has no entry for {kind!r})'))
            resolved[kind] = copy.deepcopy(fallbacks[kind])
            print_log(f'model.teachers.{kind}: {missing} not found; using the fallback '
                      f'{(fallbacks[kind] or {}).get("model", "ground truth only")}',
                      logger='current', level=30)
        return resolved

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

    def forward_train(self, inputs: Tensor, data_samples=None, **kwargs) -> Dict[str, Tensor]:
        """The stage-1 losses of a mixed batch.

        Args:
            inputs (Tensor): Degraded images in [0, 1] (after the preprocessor).
            data_samples (DataSample): Stacked samples with ``gt_img`` and the types.

        Returns:
            dict[str, Tensor]: Losses by role.
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
        losses: Dict[str, Tensor] = {}
        positive = gt.clone() if gt is not None else None
        out_terms, feat_terms = [], []
        for kind, teacher in self.teachers.items():
            idx = [i for i, t in enumerate(types) if t == kind]
            if not idx:
                continue
            index = torch.tensor(idx, device=inputs.device)
            t_out, t_feats = teacher(inputs[index], return_features=True)
            if self.distill_loss is not None:
                out_terms.append(self.distill_loss(student[index], t_out) * len(idx) / n)
            if self.positive == 'teacher' and positive is not None:
                positive[index] = t_out
            elif positive is None:
                positive = student.detach().clone()
                positive[index] = t_out
            for s_tap, t_tap in self.feature_pairs.get(kind, []):
                adapter = self.adapters[f'{kind}__{s_tap}__{t_tap}']
                target = _standardise(t_feats[t_tap])
                pred = adapter(s_feats[s_tap][index])
                if pred.shape[-2:] != target.shape[-2:]:
                    pred = F.interpolate(pred, size=target.shape[-2:], mode='bilinear',
                                         align_corners=False)
                feat_terms.append(F.l1_loss(pred, target) * len(idx) / n)
        if out_terms:
            losses['distill.loss_out'] = torch.stack(out_terms).sum()
        if feat_terms:
            losses['distill.loss_feat'] = self.feature_loss_weight * torch.stack(feat_terms).sum()
        if self.use_pixel_loss and gt is not None:
            losses['sup.loss_pix'] = self.pixel_loss(student, gt)
        if self.igcl is not None and positive is not None:
            losses['igcl.loss'] = self.igcl(student, positive, inputs, groups=types)
        if not losses:
            raise RuntimeError('no loss for this batch: no clean images and no sample with a '
                               f'teacher (types {sorted(set(map(str, types)))}, teachers '
                               f'{sorted(self.teachers)})')
        return losses
