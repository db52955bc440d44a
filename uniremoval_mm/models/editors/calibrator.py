"""Stage 2: output distribution calibration on unpaired real photos (GAN + CGCL)."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmagic.models.utils import set_requires_grad
from mmagic.registry import MODELS
from mmengine.optim import OptimWrapperDict
from mmengine.registry import TRANSFORMS
from torch import Tensor, nn

from ...utils.constants import DEGRADATION_TYPES
from ..losses.real_priors import highpass
from ..losses.utils import build_frozen
from ..students.fused import fuse_restorer
from ..utils import FrozenPartsMixin
from .utils import StudentEditModel, sample_types


@MODELS.register_module()
class UniRemovalCalibrator(FrozenPartsMixin, StudentEditModel):
    """Calibrate the stage-1 student's outputs to real clean photos, without pairs.

    A batch mixes real degraded photos (``degradation_type`` = their kind) and real
    clean photos (``degradation_type == clean_type``). With ``G`` the student, ``G₀``
    its frozen stage-1 copy, ``D`` the discriminator, ``x`` degraded and ``c`` clean:

    - generator step (every ``disc_steps``-th iteration, from ``disc_init_steps`` on):
      ``gan.loss_g`` = GAN(D(G(x)), real), ``content.loss`` = ℓ(G(x), G₀(x)) (the
      calibration may change how outputs look, not what they show), or with
      ``content_highpass_sigma`` = σ only their detail: ℓ(H(G(x)), H(G₀(x))), ``H`` the
      picture minus its Gaussian low-pass of σ px (the tone is then left to the priors
      and the discriminator),
      ``prior.*`` = :class:`RealPhotoPriorLoss` (G(x), x) where ``priors`` is given
      (brightness, black level and colour of the output against its input),
      ``rehearsal.loss`` = ℓ(G(s), c) where ``rehearsal`` is given: ``s`` is a clean
      photo of the batch degraded by one of the rehearsal's synthetic degradations
      (each photo the next one in turn), so calibrating to real photos does not undo
      what stage 1 learnt on pairs,
      ``identity.loss`` = ℓ(G(c), c) (a clean photo stays as it is),
      ``cgcl.loss`` = :class:`CGCLLoss` on G(x), its memory bank fed with c and x
      (embedded by a statistic, a frozen encoder or D's own pooled features); D's
      parameters do not require grad during this step, so nothing of it reaches D;
    - discriminator step (every iteration): ``gan.loss_d_real`` = GAN(D(c), real),
      ``gan.loss_d_fake`` = GAN(D(G(x)), fake).

    Generator and discriminator have their own optimisers (mmengine's
    ``OptimWrapperDict`` with keys ``generator`` and ``discriminator``). Prediction,
    validation and testing are the student's (mmagic's ``BaseEditModel``); predictions
    also carry the stage-1 output as ``stage1_img``.

    Args:
        generator (dict): The student's config (the stage-1 one).
        discriminator (dict): E.g. ``dict(type='SNPatchDiscriminator')``.
        gan_loss (dict): mmagic's ``GANLoss`` (``gan_type`` 'vanilla', 'lsgan',
            'hinge', ...) with its ``loss_weight``.
        init_checkpoint (str, optional): The stage-1 checkpoint (a distiller
            checkpoint, whose ``generator.`` keys are taken, or a bare student state
            dict), or a work dir (its latest checkpoint), loaded with
            ``weights_only=True`` into the student and its frozen reference. None:
            keep the generator's own initialisation (tests only). Defaults to None.
        content_loss (dict, optional): ℓ to the frozen stage-1 output; None for none.
            Defaults to Charbonnier, weight 1.0.
        content_highpass_sigma (float, optional): Compare only what is left above a
            Gaussian low-pass of this σ (px). Defaults to None (whole pictures).
        priors (dict, optional): :class:`RealPhotoPriorLoss` on the degraded photos'
            outputs. Defaults to None.
        rehearsal (dict, optional): ``dict(degradations=[transform cfgs],
            loss=dict(type=..., loss_weight=...))``: synthetic pairs made from the
            batch's clean photos (registered degradation transforms, e.g.
            ``AddOutdoorFog``, ``AddNoise``). Defaults to None.
        identity_loss (dict, optional): ℓ on clean photos. Defaults to Charbonnier,
            weight 0.5.
        cgcl (dict, optional): :class:`CGCLLoss`; None disables it. With
            ``embedding='discriminator'`` it embeds with this model's live
            discriminator (``feature_channels`` is filled in from it; the discriminator
            is passed per call, not frozen: its parameters get no gradient from the
            generator step because they are switched off there, and train in the
            discriminator step). Defaults to ``dict(type='CGCLLoss',
            num_degraded_clusters=5, loss_weight=0.001)`` (the ``'stats'`` embedding;
            docs/method.md gives the reason for the weight).
        degradation_types (Sequence[str], optional): Degraded kinds in cluster order,
            giving CGCL's labels (their number must match its
            ``num_degraded_clusters``). None: no labels (CGCL clusters by online
            k-means). Defaults to ('haze', 'rain', 'blur', 'noise', 'mixed').
        clean_type (str): ``degradation_type`` of the clean photos. Defaults to
            ``'clean'``.
        disc_steps (int): Discriminator steps per generator step. Defaults to 1.
        disc_init_steps (int): Iterations that train only the discriminator first.
            Defaults to 0.
        type_key (str): Metainfo key of the kind. Defaults to ``'degradation_type'``.
        train_cfg (dict, optional): mmagic's. Defaults to None.
        test_cfg (dict, optional): mmagic's. Defaults to None.
        init_cfg (dict, optional): mmengine's. Defaults to None.
        data_preprocessor (dict, optional): mmagic's ``DataPreprocessor``. Defaults
            to None.
    """

    def __init__(self,
                 generator: dict,
                 discriminator: dict,
                 gan_loss: dict = dict(type='GANLoss', gan_type='lsgan', loss_weight=0.05),
                 init_checkpoint: Optional[str] = None,
                 content_loss: Optional[dict] = dict(type='CharbonnierLoss', loss_weight=1.0),
                 content_highpass_sigma: Optional[float] = None,
                 priors: Optional[dict] = None,
                 rehearsal: Optional[dict] = None,
                 identity_loss: Optional[dict] = dict(type='CharbonnierLoss', loss_weight=0.5),
                 cgcl: Optional[dict] = dict(type='CGCLLoss', num_degraded_clusters=5,
                                             loss_weight=0.001),
                 degradation_types: Optional[Sequence[str]] = DEGRADATION_TYPES,
                 clean_type: str = 'clean',
                 disc_steps: int = 1,
                 disc_init_steps: int = 0,
                 type_key: str = 'degradation_type',
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        if disc_steps < 1 or disc_init_steps < 0:
            raise ValueError(f'model.disc_steps must be >= 1 and model.disc_init_steps >= 0, '
                             f'got {disc_steps} and {disc_init_steps}')
        super().__init__(generator, None, init_checkpoint,
                         'stage 2 starts from a stage-1 checkpoint: train stage 1 first, '
                         'or point it at one',
                         train_cfg=train_cfg, test_cfg=test_cfg, init_cfg=init_cfg,
                         data_preprocessor=data_preprocessor)
        self.content_loss = MODELS.build(content_loss) if content_loss else None
        if content_highpass_sigma is not None and content_highpass_sigma <= 0:
            raise ValueError(f'model.content_highpass_sigma must be > 0 or None, got '
                             f'{content_highpass_sigma}')
        self.content_highpass_sigma = content_highpass_sigma
        self.priors = MODELS.build(priors) if priors else None
        self.rehearsal_loss, self.rehearsal_transforms = None, []
        if rehearsal:
            unknown = set(rehearsal) - {'degradations', 'loss'}
            if unknown or not rehearsal.get('degradations'):
                raise ValueError('model.rehearsal needs degradations=[transform cfgs] and '
                                 f'optionally loss=dict(...), got keys {sorted(rehearsal)}')
            self.rehearsal_transforms = [TRANSFORMS.build(t) for t in rehearsal['degradations']]
            self.rehearsal_loss = MODELS.build(
                rehearsal.get('loss', dict(type='CharbonnierLoss', loss_weight=1.0)))
        # G₀: the stage-1 student, frozen (gradients still flow to nothing: it only
        # gives targets, computed under no_grad)
        self.reference = build_frozen(copy.deepcopy(self.generator))
        self.discriminator = MODELS.build(discriminator)
        self.gan_loss = MODELS.build(gan_loss)
        self.identity_loss = MODELS.build(identity_loss) if identity_loss else None
        if cgcl is not None and cgcl.get('embedding') == 'discriminator':
            # CGCL embeds with the live discriminator's taps: it needs their widths, and
            # the discriminator itself is passed per call (never owned, never frozen)
            if not hasattr(self.discriminator, 'features'):
                raise ValueError("model.cgcl.embedding='discriminator' needs a discriminator "
                                 'with features() and feature_channels (SNPatchDiscriminator), '
                                 f'got {type(self.discriminator).__name__}')
            cgcl = dict(cgcl, feature_channels=self.discriminator.feature_channels)
        self.cgcl = MODELS.build(cgcl) if cgcl is not None else None
        self.degradation_types = tuple(degradation_types) if degradation_types else None
        if self.cgcl is not None and self.degradation_types is not None and len(
                self.degradation_types) != self.cgcl.num_degraded_clusters:
            raise ValueError(
                f'model.degradation_types has {len(self.degradation_types)} kinds but '
                f'model.cgcl.num_degraded_clusters is {self.cgcl.num_degraded_clusters}')
        self.clean_type = clean_type
        self.type_key = type_key
        self.disc_steps = disc_steps
        self.disc_init_steps = disc_init_steps
        # persistent, so a resumed run keeps the G/D schedule
        self.register_buffer('step_counter', torch.zeros((), dtype=torch.long))

    def init_weights(self) -> None:
        """Initialise the discriminator only: the student and its reference are the
        stage-1 weights loaded in ``__init__``."""
        if hasattr(self.discriminator, 'init_weights'):
            self.discriminator.init_weights()

    def _frozen_parts(self) -> Tuple[nn.Module]:
        """The stage-1 reference stays in eval mode."""
        return (self.reference, )

    @torch.no_grad()
    def _stage1(self, inputs: Tensor) -> Tensor:
        """The frozen stage-1 student's output, through its fused inference path where
        it has one (not under autocast, whose half-precision activations the fused
        products do not take)."""
        net = self.reference
        if not torch.is_autocast_enabled(inputs.device.type):
            net = fuse_restorer(net)
        return net(inputs)

    def forward_inference(self, inputs: Tensor, data_samples=None, **kwargs):
        """The calibrated student's prediction (``pred_img``), and the frozen stage-1
        student's (``stage1_img``), so one test run compares before and after stage 2.

        Args:
            inputs (Tensor): Degraded images in [0, 1] (after the preprocessor).
            data_samples (DataSample, optional): Stacked samples.

        Returns:
            DataSample: Stacked predictions.
        """
        predictions = super().forward_inference(inputs, data_samples, **kwargs)
        stage1 = self.data_preprocessor.destruct(self._stage1(inputs), data_samples)
        predictions.set_tensor_data(dict(stage1_img=stage1.cpu()))
        return predictions

    def _labels(self, types: List[str], device) -> Optional[Tensor]:
        if self.degradation_types is None:
            return None
        unknown = sorted({t for t in types if t not in self.degradation_types})
        if unknown:
            raise ValueError(f'degradation types {unknown} are not in model.degradation_types '
                             f'{list(self.degradation_types)} (nor model.clean_type '
                             f'{self.clean_type!r}): map the data folders to these names, or '
                             'set model.degradation_types=None to cluster by k-means')
        return torch.tensor([self.degradation_types.index(t) for t in types], device=device)

    def _split(self, inputs: Tensor, data_samples):
        types = sample_types(data_samples, self.type_key, inputs.shape[0])
        clean = [i for i, t in enumerate(types) if t == self.clean_type]
        degraded = [i for i, t in enumerate(types) if t != self.clean_type]
        if not clean or not degraded:
            raise ValueError(
                f'a stage-2 batch needs real degraded photos and real clean photos '
                f"({self.type_key}={self.clean_type!r}); this one has types "
                f'{sorted(set(map(str, types)))}: check the dataset folders and the batch '
                'sampler (DegradationBalancedBatchSampler keeps every kind in every batch)')
        labels = self._labels([types[i] for i in degraded], inputs.device)
        idx = lambda ids: torch.tensor(ids, device=inputs.device)  # noqa: E731
        return inputs[idx(degraded)], inputs[idx(clean)], labels

    def generator_losses(self, degraded: Tensor, clean: Tensor, restored: Tensor,
                         labels: Optional[Tensor]) -> Dict[str, Tensor]:
        """The generator's losses, by role.

        Args:
            degraded (Tensor): Real degraded photos x, (N, 3, H, W) in [0, 1].
            clean (Tensor): Real clean photos c, (M, 3, H, W).
            restored (Tensor): G(x).
            labels (Tensor, optional): Cluster of each degraded photo.

        Returns:
            dict[str, Tensor]: ``gan.loss_g``, ``content.loss``, ``identity.loss``,
            ``cgcl.loss`` (those enabled).
        """
        losses = {'gan.loss_g': self.gan_loss(self.discriminator(restored), True, is_disc=False)}
        if self.content_loss is not None:
            target = self._stage1(degraded)
            if self.content_highpass_sigma is not None:
                restored_cmp = highpass(restored, self.content_highpass_sigma)
                target = highpass(target, self.content_highpass_sigma)
            else:
                restored_cmp = restored
            losses['content.loss'] = self.content_loss(restored_cmp, target)
        if self.priors is not None:
            losses.update(self.priors(restored, degraded))
        if self.rehearsal_loss is not None:
            synthetic = self.rehearsal_inputs(clean)
            losses['rehearsal.loss'] = self.rehearsal_loss(self.generator(synthetic), clean)
        if self.identity_loss is not None:
            losses['identity.loss'] = self.identity_loss(self.generator(clean), clean)
        if self.cgcl is not None:
            network = self.discriminator if self.cgcl.embedding == 'discriminator' else None
            losses['cgcl.loss'] = self.cgcl(restored, clean=clean, degraded=degraded,
                                            degraded_labels=labels, network=network)
        return losses

    def rehearsal_inputs(self, clean: Tensor) -> Tensor:
        """The batch's clean photos, each degraded by the next rehearsal degradation.

        Args:
            clean (Tensor): (M, 3, H, W) in [0, 1].

        Returns:
            Tensor: The degraded copies, same shape, device and dtype.
        """
        step = int(self.step_counter)
        arrays = clean.detach().float().cpu().permute(0, 2, 3, 1).numpy()
        out = []
        for i, img in enumerate(arrays):
            transform = self.rehearsal_transforms[(step * len(arrays) + i) %
                                                  len(self.rehearsal_transforms)]
            results = transform.transform(dict(img=np.ascontiguousarray(img),
                                               sample_idx=f'{step}-{i}'))
            out.append(np.clip(results['img'], 0, 1))
        return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2).to(clean)

    def discriminator_losses(self, clean: Tensor, restored: Tensor) -> Dict[str, Tensor]:
        """The discriminator's losses.

        Args:
            clean (Tensor): Real clean photos (real).
            restored (Tensor): Detached G(x) (fake).

        Returns:
            dict[str, Tensor]: ``gan.loss_d_real`` and ``gan.loss_d_fake``.
        """
        return {
            'gan.loss_d_real': self.gan_loss(self.discriminator(clean), True, is_disc=True),
            'gan.loss_d_fake': self.gan_loss(self.discriminator(restored), False, is_disc=True),
        }

    def train_step(self, data: dict, optim_wrapper: OptimWrapperDict) -> Dict[str, Tensor]:
        """One stage-2 iteration: a generator step (on schedule), then a discriminator step.

        Args:
            data (dict): A batch from the dataloader.
            optim_wrapper (OptimWrapperDict): With ``generator`` and ``discriminator``.

        Returns:
            dict[str, Tensor]: Losses for the log.
        """
        missing = {'generator', 'discriminator'} - set(optim_wrapper.keys())
        if missing:
            raise KeyError(f'optim_wrapper needs the keys generator and discriminator (missing '
                           f'{sorted(missing)}): use constructor=\'MultiOptimWrapperConstructor\'')
        data = self.data_preprocessor(data, True)
        degraded, clean, labels = self._split(data['inputs'], data['data_samples'])
        g_wrapper, d_wrapper = optim_wrapper['generator'], optim_wrapper['discriminator']
        log_vars: Dict[str, Tensor] = {}
        step = int(self.step_counter)
        run_g = step >= self.disc_init_steps and step % self.disc_steps == 0
        if run_g:
            set_requires_grad(self.discriminator, False)
            with g_wrapper.optim_context(self.generator):
                restored = self.generator(degraded)
                parsed, log_g = self.parse_losses(
                    self.generator_losses(degraded, clean, restored, labels))
            g_wrapper.update_params(parsed)
            log_vars.update(log_g)
            restored = restored.detach()
        else:
            with torch.no_grad():
                restored = self.generator(degraded)
        set_requires_grad(self.discriminator, True)
        with d_wrapper.optim_context(self.discriminator):
            parsed, log_d = self.parse_losses(self.discriminator_losses(clean, restored))
        d_wrapper.update_params(parsed)
        log_vars.update(log_d)
        log_vars.pop('loss', None)
        self.step_counter += 1
        return log_vars
