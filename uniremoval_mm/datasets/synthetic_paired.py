"""Paired training data made on the fly from a folder of clean photos."""
from pathlib import Path
from typing import List, Optional, Sequence

from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset

from .image_files import list_images

DEGRADATION_TYPES = ('haze', 'rain', 'blur', 'noise', 'mixed')


@DATASETS.register_module()
class SyntheticPairedDataset(BaseDataset):
    """Clean photos, each listed once per degradation type, for on-the-fly synthesis.

    Every clean image appears once for every type in ``degradation_types``, so an epoch
    holds each type equally often. Each item carries ``gt_path`` (and ``img_path``, the
    same file, which seeds per-sample degradations) and ``degradation_type``; the
    pipeline loads ``gt`` and makes ``img`` with :class:`AddTypedDegradation`.

    Args:
        data_root (str): Folder of clean photos (searched recursively; files are kept by
            content, whatever their extension).
        degradation_types (Sequence[str]): Types to list each photo under. Defaults to
            ``('haze', 'rain', 'blur', 'noise', 'mixed')``.
        pipeline (list[dict]): The data pipeline. Defaults to [].
        test_mode (bool): mmengine's flag. Defaults to False.
        max_images (int, optional): Use only the first N photos. Defaults to None.
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.
    """

    METAINFO = dict(dataset_type='synthetic_paired', task_name='restoration')

    def __init__(self,
                 data_root: str,
                 degradation_types: Sequence[str] = DEGRADATION_TYPES,
                 pipeline: Optional[List[dict]] = None,
                 test_mode: bool = False,
                 max_images: Optional[int] = None,
                 **kwargs) -> None:
        if not degradation_types:
            raise ValueError('degradation_types must not be empty')
        self.degradation_types = tuple(degradation_types)
        self.max_images = max_images
        super().__init__(data_root=data_root, pipeline=pipeline or [], test_mode=test_mode,
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        """One item per (clean photo, degradation type).

        Returns:
            list[dict]: The items.

        Raises:
            FileNotFoundError: If the folder is missing or holds no image.
        """
        photos = list_images(Path(self.data_root))[:self.max_images]
        if not photos:
            raise FileNotFoundError(f'{self.data_root}: no image files found (judged by '
                                    'content) for SyntheticPairedDataset')
        items = []
        for path in photos:
            for kind in self.degradation_types:
                items.append(dict(gt_path=str(path), img_path=str(path),
                                  key=f'{path.stem}_{kind}', degradation_type=kind))
        return items
