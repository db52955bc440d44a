"""Restoration quality (PSNR / SSIM) inside a detection test run, against clean images."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmagic.evaluation.metrics.psnr import psnr
from mmagic.evaluation.metrics.ssim import ssim
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric


@METRICS.register_module()
class RestorationQualityMetric(BaseMetric):
    """PSNR and SSIM of the pre-processor's restored images, next to the detection AP.

    For a degraded copy of a detection set whose clean images exist under the same file
    names (what ``make_degraded_coco.py`` writes), add it to the test evaluator::

        test_evaluator = [dict(type='CocoMetric', ...),
                          dict(type='RestorationQualityMetric', ref_dir='data/clean/val')]

    with ``data_preprocessor.keep_restored=True``: each data sample then carries
    ``restored_img``. Reported (0-255, RGB, mmagic's PSNR / SSIM): ``restoration/PSNR``,
    ``restoration/SSIM`` of the restored images and ``restoration/input_PSNR``,
    ``restoration/input_SSIM`` of the degraded inputs as loaded. Where the pipeline
    resized the image, the references are resized to it (bilinear).

    Args:
        ref_dir (str): Folder of the clean references, matched by file name.
        crop_border (int): Pixels left out at each edge. Defaults to 0.
        collect_device (str): Defaults to ``'cpu'``.
        prefix (str, optional): Defaults to ``'restoration'``.
    """

    default_prefix = 'restoration'

    def __init__(self,
                 ref_dir: str,
                 crop_border: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ref_dir = Path(ref_dir)
        if not self.ref_dir.is_dir():
            raise FileNotFoundError(f'RestorationQualityMetric.ref_dir: {ref_dir} is not a '
                                    'directory')
        self.crop_border = crop_border

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Score each restored image against its clean reference.

        Args:
            data_batch (dict): The batch (unused).
            data_samples (Sequence[dict]): Predictions, with ``restored_img`` and
                ``img_path``.

        Raises:
            KeyError: If a sample has no ``restored_img`` (``keep_restored`` off).
            FileNotFoundError: If a reference is missing.
        """
        for sample in data_samples:
            if 'restored_img' not in sample:
                raise KeyError('RestorationQualityMetric needs '
                               'model.data_preprocessor.keep_restored=True')
            restored = sample['restored_img'].permute(1, 2, 0).numpy()
            name = Path(sample['img_path']).name
            ref_path = self.ref_dir / name
            if not ref_path.is_file():
                raise FileNotFoundError(f'RestorationQualityMetric: no reference {ref_path}')
            ref = self._load_as(ref_path, restored.shape[:2])
            inp = self._load_as(Path(sample['img_path']), restored.shape[:2])
            kw = dict(crop_border=self.crop_border, input_order='HWC')
            self.results.append(dict(PSNR=psnr(restored, ref, **kw),
                                     SSIM=ssim(restored, ref, **kw),
                                     input_PSNR=psnr(inp, ref, **kw),
                                     input_SSIM=ssim(inp, ref, **kw)))

    @staticmethod
    def _load_as(path: Path, shape) -> np.ndarray:
        img = mmcv.imread(str(path))  # BGR, as the pipeline's LoadImageFromFile
        if img.shape[:2] != tuple(shape):
            img = cv2.resize(img, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
        return img

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Average over images.

        Args:
            results (list[dict]): Per-image scores.

        Returns:
            dict[str, float]: Mean PSNR / SSIM of the restored and the input images.
        """
        return {k: float(np.mean([r[k] for r in results])) for k in results[0]}
