"""Paired training data made on the fly from a folder of clean photos."""
from pathlib import Path
from typing import List, Optional, Sequence

from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset

from ..utils.constants import DEGRADATION_TYPES
from .checks import check_mode, checked_images, no_files_error, pipeline_min_size, report_skipped


@DATASETS.register_module()
class SyntheticPairedDataset(BaseDataset):
    """Clean photos, each listed once per degradation type, for on-the-fly synthesis.

    Every clean image appears once for every type in ``degradation_types``, so an epoch
    holds each type equally often. Each item carries ``gt_path`` (and ``img_path``, the
    same file, which seeds per-sample degradations) and ``degradation_type``; the
    pipeline loads ``gt`` and makes ``img`` with :class:`AddTypedDegradation`.

    A folder of photos is the user's: files that cannot be used are **skipped and
    reported**, one warning line each (``path: problem``), and listed in ``skipped``:
    files named like images that are empty, unreadable or not images; images whose
    header is corrupt or that exceed ``max_pixels``; images smaller than the pipeline's
    crop (mmagic's ``Crop`` would make a smaller sample and the batch would fail to
    stack). Truncated pixel data is found by ``check_files='decode'``, or by the
    loader (:class:`LoadImageChecked`, ``on_error='skip'`` while training). Raised at
    construction, one line each: a folder with no usable photo, a non-positive crop
    size, a degradation type the pipeline's :class:`AddTypedDegradation` cannot make.

    Args:
        data_root (str): Folder of clean photos (searched recursively; files are kept by
            content, whatever their extension).
        degradation_types (Sequence[str]): Types to list each photo under. Defaults to
            ``('haze', 'rain', 'blur', 'noise', 'mixed')``.
        pipeline (list[dict]): The data pipeline. Defaults to [].
        test_mode (bool): mmengine's flag. Defaults to False.
        max_images (int, optional): Use only the first N usable photos. Defaults to
            None.
        check_files (str): What is checked of each photo when the dataset is built:
            ``'header'`` (cheap: readable, an image, its size), ``'decode'`` (every
            pixel: also finds truncated files) or ``'none'``. Defaults to ``'header'``.
        max_pixels (int, optional): Skip photos with more pixels. Defaults to None
            (only Pillow's decompression-bomb limit, 179 MP).
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.
    """

    METAINFO = dict(dataset_type='synthetic_paired', task_name='restoration')

    def __init__(self,
                 data_root: str,
                 degradation_types: Sequence[str] = DEGRADATION_TYPES,
                 pipeline: Optional[List[dict]] = None,
                 test_mode: bool = False,
                 max_images: Optional[int] = None,
                 check_files: str = 'header',
                 max_pixels: Optional[int] = None,
                 **kwargs) -> None:
        if not degradation_types:
            raise ValueError('SyntheticPairedDataset.degradation_types must not be empty')
        check_mode(type(self).__name__, check_files, max_pixels)
        self.degradation_types = tuple(degradation_types)
        self.max_images = max_images
        self.check_files = check_files
        self.max_pixels = max_pixels
        self.skipped: List[str] = []
        super().__init__(data_root=data_root, pipeline=pipeline or [], test_mode=test_mode,
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        """One item per (clean photo, degradation type).

        Returns:
            list[dict]: The items.

        Raises:
            FileNotFoundError: If the folder is missing or holds no usable image.
            ValueError: If the pipeline cannot serve the dataset (crop size, types).
        """
        owner = type(self).__name__
        self._check_types()
        photos, self.skipped = checked_images(
            owner, Path(self.data_root), True, self.check_files, self.max_pixels,
            pipeline_min_size(owner, self.pipeline), strict=False, limit=self.max_images)
        report_skipped(owner, self.skipped, len(photos) + len(self.skipped))
        if not photos:
            raise no_files_error(
                f'{self.data_root}: no image files found (judged by content) for {owner}',
                self.skipped)
        items = []
        for path in photos:
            for kind in self.degradation_types:
                # keys in PairedFolderDataset's order: mixed in one batch, mmagic's
                # DataSample.stack compares the samples' metainfo keys in order
                items.append(dict(img_path=str(path), gt_path=str(path),
                                  key=f'{path.stem}_{kind}', degradation_type=kind))
        return items

    def _check_types(self) -> None:
        for t in getattr(self.pipeline, 'transforms', []):
            known = getattr(t, 'transforms', None)
            if type(t).__name__ == 'AddTypedDegradation' and isinstance(known, dict):
                unknown = [k for k in self.degradation_types if k not in known]
                if unknown:
                    raise ValueError(
                        f'SyntheticPairedDataset.degradation_types: {unknown} cannot be made '
                        f'by the pipeline\'s AddTypedDegradation (it knows {sorted(known)})')
