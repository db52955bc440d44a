"""Pictures during training: input | restored | target grids per degradation type."""
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...utils.arg_checks import at_least, one_of


def _to_uint8_hwc(img: torch.Tensor) -> np.ndarray:
    img = img.detach().float().cpu()
    if img.max() <= 1.5:  # [0, 1] tensors
        img = img * 255
    return img.clamp(0, 255).round().byte().permute(1, 2, 0).numpy()


def _pad_to(img: np.ndarray, h: int, w: int) -> np.ndarray:
    out = np.full((h, w, 3), 255, np.uint8)
    out[:img.shape[0], :img.shape[1]] = img
    return out


@HOOKS.register_module()
class RestorationGridHook(Hook):
    """After each validation (and test), one picture per degradation type: rows are samples, columns
    the degraded input, the restored output and the target (when the data has one).

    Written to ``{work_dir}/vis_grids/iter_{k}/{type}.jpg`` and given to the runner's
    visualiser (``add_image``), so every configured backend gets it (TensorBoard when
    ``vis_backends`` has ``TensorboardVisBackend``).

    Args:
        max_samples (int): Rows per type. Defaults to 3.
        type_key (str): Metainfo key of the type. Defaults to ``'degradation_type'``.
        max_side (int, optional): Downscale each tile so its longer side is at most
            this. Defaults to 256.
        out_dir (str): Sub-folder of the work dir. Defaults to ``'vis_grids'``.
        output_channel_order (str): Channel order of ``pred_img`` / ``gt_img`` in the
            predictions: mmagic's ``destruct`` returns BGR. Inputs follow their
            ``img_channel_order`` metainfo (RGB when absent). Defaults to ``'bgr'``.
    """

    priority = 'LOW'

    def __init__(self,
                 max_samples: int = 3,
                 type_key: str = 'degradation_type',
                 max_side: Optional[int] = 256,
                 out_dir: str = 'vis_grids',
                 output_channel_order: str = 'bgr') -> None:
        self.output_channel_order = one_of('RestorationGridHook.output_channel_order',
                                           output_channel_order, ('bgr', 'rgb'))
        self.max_samples = at_least('RestorationGridHook.max_samples', max_samples)
        self.type_key = type_key
        self.max_side = max_side
        self.out_dir = out_dir
        self._rows: Dict[str, List[List[np.ndarray]]] = defaultdict(list)

    def before_val_epoch(self, runner) -> None:
        """Start collecting."""
        self._rows.clear()

    def _tile(self, img: torch.Tensor, order: str = 'rgb') -> np.ndarray:
        import cv2
        arr = _to_uint8_hwc(img)
        if arr.shape[2] == 1:
            arr = np.repeat(arr, 3, 2)
        elif order == 'bgr':
            arr = np.ascontiguousarray(arr[..., ::-1])
        if self.max_side and max(arr.shape[:2]) > self.max_side:
            scale = self.max_side / max(arr.shape[:2])
            arr = cv2.resize(arr, (max(1, round(arr.shape[1] * scale)),
                                   max(1, round(arr.shape[0] * scale))),
                             interpolation=cv2.INTER_AREA)
        return arr

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict = None,
                       outputs: Sequence = None) -> None:
        """Keep the first ``max_samples`` samples of each type.

        Args:
            runner (Runner): The runner.
            batch_idx (int): Index of the batch.
            data_batch (dict): The batch (``inputs``: the degraded images).
            outputs (Sequence[DataSample]): The model's predictions.
        """
        if not outputs or data_batch is None:
            return
        for i, sample in enumerate(outputs):
            kind = str(sample.metainfo.get(self.type_key, 'all'))
            if len(self._rows[kind]) >= self.max_samples:
                continue
            in_order = str(sample.metainfo.get('img_channel_order', 'rgb')).lower()
            out = self.output_channel_order
            row = [self._tile(data_batch['inputs'][i], in_order),
                   self._tile(sample.output.pred_img, out)]
            if 'gt_img' in sample:
                row.append(self._tile(sample.gt_img, out))
            self._rows[kind].append(row)

    def after_val_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """Write one grid per type, to the work dir and the visualiser.

        Args:
            runner (Runner): The runner.
            metrics (dict, optional): Unused.
        """
        import cv2
        if not self._rows:
            return
        folder = Path(runner.work_dir) / self.out_dir / f'iter_{runner.iter}'
        folder.mkdir(parents=True, exist_ok=True)
        for kind, rows in sorted(self._rows.items()):
            grid = self.grid(rows)
            cv2.imwrite(str(folder / f'{kind}.jpg'), grid[..., ::-1])
            runner.visualizer.add_image(f'restoration_{kind}', grid, step=runner.iter)

    # tools/test.py gets the same pictures
    def before_test_epoch(self, runner) -> None:
        """Start collecting (testing)."""
        self.before_val_epoch(runner)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict = None,
                        outputs: Sequence = None) -> None:
        """As :meth:`after_val_iter`, when testing."""
        self.after_val_iter(runner, batch_idx, data_batch, outputs)

    def after_test_epoch(self, runner, metrics: Optional[dict] = None) -> None:
        """As :meth:`after_val_epoch`, when testing."""
        self.after_val_epoch(runner, metrics)

    @staticmethod
    def grid(rows: List[List[np.ndarray]], gap: int = 4) -> np.ndarray:
        """Lay out rows of tiles (RGB uint8) on white, ``gap`` pixels apart.

        Args:
            rows (list[list[np.ndarray]]): Tiles, row by row.
            gap (int): Pixels between tiles. Defaults to 4.

        Returns:
            np.ndarray: The picture, (H, W, 3) uint8 RGB.
        """
        cols = max(len(r) for r in rows)
        th = max(t.shape[0] for r in rows for t in r)
        tw = max(t.shape[1] for r in rows for t in r)
        out = np.full((len(rows) * (th + gap) - gap, cols * (tw + gap) - gap, 3), 255,
                      np.uint8)
        for r, row in enumerate(rows):
            for c, tile in enumerate(row):
                y, x = r * (th + gap), c * (tw + gap)
                out[y:y + th, x:x + tw] = _pad_to(tile, th, tw)
        return out
