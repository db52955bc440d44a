"""Quality of real photos without ground truth: NIQE, PIQE and a haze density, before/after."""
import math
from collections import defaultdict
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmagic.evaluation.metrics.base_sample_wise_metric import BaseSampleWiseMetric
from mmagic.registry import METRICS

from ...models.teachers.dcp import dark_channel

NIQE_BLOCK = 96  # mmagic's niqe: 96×96 blocks, and it needs at least two of them


def dark_channel_density(img: torch.Tensor, patch: int = 15) -> float:
    """Haze density: the mean dark channel (He et al.) of an RGB image in [0, 1].

    Haze lifts the per-patch minimum colour towards the airlight, so the mean dark
    channel grows with haze (a haze-free outdoor photo has it near 0).

    Args:
        img (Tensor): (3, H, W) in [0, 1].
        patch (int): Window size. Defaults to 15 (He et al.).

    Returns:
        float: Mean dark channel, in [0, 1].
    """
    return float(dark_channel(img[None].float(), patch).mean())


def niqe_score(rgb_hwc: np.ndarray) -> float:
    """NIQE (mmagic's functional ``niqe``, Y channel, no border crop) of an RGB image.

    Args:
        rgb_hwc (np.ndarray): (H, W, 3) RGB, values in [0, 255] (any float or uint8).

    Returns:
        float: NIQE (lower looks more natural), or NaN when the image has fewer than
        two 96×96 blocks (mmagic's NIQE needs two).
    """
    from mmagic.evaluation.metrics.niqe import niqe
    h, w = rgb_hwc.shape[:2]
    if (h // NIQE_BLOCK) * (w // NIQE_BLOCK) < 2:
        return math.nan
    return float(niqe(rgb_hwc[..., ::-1], crop_border=0, input_order='HWC', convert_to='y'))


def piqe_score(rgb_hwc: np.ndarray) -> float:
    """PIQE (Venkatanath et al. 2015; ``pypiqe``, tested against MATLAB's ``piqe``).

    A second naturalness measure beside NIQE that needs no trained model: the share of
    16×16 blocks with visible blocking / noise among the spatially active ones
    (0-100, lower is better). NIQE compares statistics with a model of pristine photos;
    PIQE looks for local artefacts, so the two disagree where a restorer leaves texture.

    Args:
        rgb_hwc (np.ndarray): (H, W, 3) RGB, values in [0, 255] (any float or uint8).

    Returns:
        float: PIQE, or NaN for a black image (PIQE scales by the image's maximum).

    Raises:
        ImportError: If ``pypiqe`` is not installed (it is in requirements/runtime.txt).
    """
    try:
        from pypiqe import piqe
    except ImportError as err:  # pragma: no cover - a broken install
        raise ImportError('PIQE needs pypiqe: pip install pypiqe '
                          '(requirements/runtime.txt)') from err
    img = np.clip(np.round(np.asarray(rgb_hwc, dtype=np.float64)), 0, 255).astype(np.uint8)
    if img.max() == 0:
        return math.nan
    return float(piqe(np.ascontiguousarray(img[..., ::-1]))[0])  # pypiqe reads BGR


@METRICS.register_module()
class NoReferenceQuality(BaseSampleWiseMetric):
    """NIQE, PIQE and dark-channel haze density of the input, the stage-1 output (when
    the model gives one, as ``UniRemovalCalibrator`` does) and the output, per group.

    For real degraded photos with no clean reference: one test run gives, for each
    group (the ``degradation_type`` = the photo's folder) and overall,
    ``{group}/NIQE_{input,stage1,output}`` (mmagic's functional ``niqe`` on the Y
    channel; lower looks more natural), ``{group}/PIQE_{...}`` (:func:`piqe_score`;
    lower has fewer visible artefacts) and ``{group}/dark_{input,stage1,output}``
    (:func:`dark_channel_density`; lower is less haze). Images too small for NIQE
    (fewer than two 96×96 blocks) are left out of the NIQE means and counted in
    ``NIQE_skipped``.

    Args:
        group_key (str): Metainfo key to group by. Defaults to ``'degradation_type'``.
        measures (Sequence[str]): Of ``'niqe'``, ``'piqe'`` and ``'dark'``. Defaults
            to all three.
        output_channel_order (str): Channel order of the predictions: mmagic's
            ``destruct`` returns BGR. Defaults to ``'bgr'``.
        dark_patch (int): Dark-channel window. Defaults to 15.
        prefix (str, optional): Metric name prefix. Defaults to None.
    """

    metric = 'NoReferenceQuality'

    def __init__(self,
                 group_key: str = 'degradation_type',
                 measures: Sequence[str] = ('niqe', 'piqe', 'dark'),
                 dark_patch: int = 15,
                 output_channel_order: str = 'bgr',
                 prefix: Optional[str] = None) -> None:
        super().__init__(prefix=prefix)
        if output_channel_order not in ('bgr', 'rgb'):
            raise ValueError("output_channel_order must be 'bgr' or 'rgb', got "
                             f'{output_channel_order!r}')
        self.output_channel_order = output_channel_order
        unknown = sorted(set(measures) - {'niqe', 'piqe', 'dark'})
        if unknown or not measures:
            raise ValueError("measures must be a non-empty subset of ('niqe', 'piqe', 'dark'), "
                             f'got {list(measures)}')
        self.group_key = group_key
        self.measures = tuple(measures)
        self.dark_patch = dark_patch

    @staticmethod
    def _rgb01(img: torch.Tensor, order: str) -> torch.Tensor:
        img = img.detach().float().cpu()
        if img.max() > 1.5:  # uint8 range (inputs, mmagic's destructed outputs)
            img = img / 255
        img = img.clamp(0, 1)
        return img.flip(0) if order == 'bgr' else img

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Measure each image of a batch.

        Args:
            data_batch (dict): The dataloader's batch (its ``inputs`` are the degraded
                images, in the pipeline's channel order).
            data_samples (Sequence[dict]): The model's predictions.
        """
        inputs = data_batch['inputs']
        for i, sample in enumerate(data_samples):
            output = sample['output']
            order = 'bgr' if str(sample.get('img_channel_order', 'rgb')).lower() == 'bgr' \
                else 'rgb'
            out_order = self.output_channel_order
            images = {'input': self._rgb01(inputs[i], order),
                      'output': self._rgb01(output['pred_img'], out_order)}
            if 'stage1_img' in output:
                images['stage1'] = self._rgb01(output['stage1_img'], out_order)
            row = {'group': str(sample.get(self.group_key, 'all'))}
            for name, img in images.items():
                hwc = img.permute(1, 2, 0).mul(255).round().numpy()
                if 'niqe' in self.measures:
                    row[f'NIQE_{name}'] = niqe_score(hwc)
                if 'piqe' in self.measures:
                    row[f'PIQE_{name}'] = piqe_score(hwc)
                if 'dark' in self.measures:
                    row[f'dark_{name}'] = dark_channel_density(img, self.dark_patch)
            self.results.append(row)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Means per group and overall.

        Args:
            results (list[dict]): One row per image.

        Returns:
            dict[str, float]: ``{group}/{measure}_{image}`` and ``{measure}_{image}``.
        """
        groups: Dict[str, List[dict]] = defaultdict(list)
        for row in results:
            groups[row['group']].append(row)
            groups[''].append(row)
        metrics = {}
        for group, rows in sorted(groups.items()):
            for key in sorted({k for r in rows for k in r} - {'group'}):
                values = [r[key] for r in rows if not math.isnan(r.get(key, math.nan))]
                name = f'{group}/{key}' if group else key
                metrics[name] = float(np.mean(values)) if values else math.nan
        metrics['NIQE_skipped'] = sum(math.isnan(r.get('NIQE_input', 0.0)) for r in results)
        return metrics
