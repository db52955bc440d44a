"""Restoration benchmarks on disk: paired folders matched by name, unpaired folders."""
import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from .image_files import list_images

# How the stem of a degraded file names its clean file's stem, per benchmark layout.
MATCH_RULES: Dict[str, Callable[[str], str]] = {
    'same': lambda stem: stem,  # Rain100L, Rain13k, GoPro (blur/ <-> sharp/), most sets
    'reside': lambda stem: stem.split('_')[0],  # RESIDE: 0001_0.8_0.2 <-> 0001
    'sidd': lambda stem: stem.replace('_NOISY', '_GT'),  # SIDD: 0_NOISY <-> 0_GT
}


def _matcher(match: str) -> Callable[[str], str]:
    if match in MATCH_RULES:
        return MATCH_RULES[match]
    try:
        pattern = re.compile(match)
    except re.error as e:
        raise ValueError(f'match must be one of {sorted(MATCH_RULES)} or a regular expression '
                         f'with one group, got {match!r} ({e})') from e
    if pattern.groups != 1:
        raise ValueError(f'the match pattern {match!r} must have exactly one group: the '
                         'clean file\'s stem')

    def rule(stem: str) -> str:
        found = pattern.fullmatch(stem)
        return found.group(1) if found else ''

    return rule


@DATASETS.register_module()
class PairedFolderDataset(BaseDataset):
    """Degraded/clean pairs in two folders, matched by file name (RESIDE, Rain100L, ...).

    Files are found by content (extensions may lie) and matched by stem, so a hazy
    ``.jpg`` pairs with a clean ``.png``. Several degraded files may share one clean file
    (RESIDE's many haze levels per scene).

    Args:
        data_root (str): The benchmark folder.
        lq_dir (str): Sub-folder of degraded images. Defaults to ``'lq'``.
        gt_dir (str): Sub-folder of clean images. Defaults to ``'gt'``.
        match (str): ``'same'`` (identical stems), ``'reside'`` (``0001_0.8_0.2`` →
            ``0001``), ``'sidd'`` (``_NOISY`` → ``_GT``), or a regular expression with one
            group that extracts the clean stem from the degraded stem. Defaults to
            ``'same'``.
        degradation_type (str, optional): Recorded in every item (``degradation_type``).
            Defaults to None.
        strict (bool): Raise if a degraded file has no clean partner; otherwise skip it
            (listed in ``unmatched``). Defaults to True.
        pipeline (list[dict], optional): The data pipeline. Defaults to None.
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.

    Example layouts: RESIDE SOTS ``hazy/`` + ``clear/`` with ``match='reside'``;
    Rain100L ``rainy/`` + ``clean/``; GoPro ``blur/`` + ``sharp/``; SIDD ``noisy/`` +
    ``gt/`` with ``match='sidd'``.
    """

    METAINFO = dict(dataset_type='paired_folder', task_name='restoration')

    def __init__(self,
                 data_root: str,
                 lq_dir: str = 'lq',
                 gt_dir: str = 'gt',
                 match: str = 'same',
                 degradation_type: Optional[str] = None,
                 strict: bool = True,
                 pipeline: Optional[List[Union[dict, Callable]]] = None,
                 **kwargs) -> None:
        self.lq_dir, self.gt_dir = lq_dir, gt_dir
        self.rule = _matcher(match)
        self.degradation_type = degradation_type
        self.strict = strict
        self.unmatched: List[str] = []
        super().__init__(data_root=data_root, pipeline=pipeline or [], **kwargs)

    def load_data_list(self) -> List[dict]:
        """One item per degraded file that has a clean partner.

        Returns:
            list[dict]: Items with ``img_path``, ``gt_path``, ``key`` and, if set,
            ``degradation_type``.

        Raises:
            FileNotFoundError: If a folder is missing or empty, or (``strict``) a
                degraded file has no clean partner.
        """
        root = Path(self.data_root)
        lq_files = list_images(root / self.lq_dir, recursive=False)
        gt_by_stem = {p.stem: p for p in list_images(root / self.gt_dir, recursive=False)}
        if not lq_files or not gt_by_stem:
            raise FileNotFoundError(f'{root}: no images in {self.lq_dir}/ or {self.gt_dir}/')
        items = []
        for lq in lq_files:
            gt = gt_by_stem.get(self.rule(lq.stem))
            if gt is None:
                if self.strict:
                    raise FileNotFoundError(
                        f'{lq}: no clean partner in {root / self.gt_dir} (looked for stem '
                        f'{self.rule(lq.stem)!r}); set strict=False to skip unmatched files')
                self.unmatched.append(str(lq))
                continue
            item = dict(img_path=str(lq), gt_path=str(gt), key=lq.stem)
            if self.degradation_type is not None:
                item['degradation_type'] = self.degradation_type
            items.append(item)
        return items


@DATASETS.register_module()
class UnpairedFolderDataset(BaseDataset):
    """Real photos without ground truth, one sub-folder per kind (stage 2, evaluation).

    ``data_root/hazy/*``, ``data_root/rainy/*``, ... become items with ``img_path`` and
    ``degradation_type`` = the sub-folder's name (or its mapped name); images are found by
    content, so a BMP named ``.png`` is used.

    Args:
        data_root (str | Sequence[str]): Folder of sub-folders, or candidates of which
            the first that exists is used (e.g. real photos when present, else the demo
            set); the choice is logged.
        folders (Sequence[str] | dict[str, str], optional): Sub-folders to use, or a map
            from sub-folder to degradation type (e.g. ``dict(hazy='haze')``). None: every
            sub-folder, named as is. Defaults to None.
        exclude (Sequence[str]): Sub-folders to leave out (e.g. an acceptance set).
            Defaults to ().
        skip_missing (bool): A named sub-folder that does not exist is skipped with a
            warning instead of an error (candidate roots need not have the same kinds).
            Defaults to False.
        pipeline (list[dict], optional): The data pipeline. Defaults to None.
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.
    """

    METAINFO = dict(dataset_type='unpaired_folder', task_name='restoration')

    def __init__(self,
                 data_root: Union[str, Sequence[str]],
                 folders: Union[Sequence[str], Dict[str, str], None] = None,
                 exclude: Sequence[str] = (),
                 skip_missing: bool = False,
                 pipeline: Optional[List[Union[dict, Callable]]] = None,
                 **kwargs) -> None:
        self.folders = folders
        self.exclude = set(exclude)
        self.skip_missing = skip_missing
        if not isinstance(data_root, (str, Path)):
            candidates = [str(c) for c in data_root]
            found = [c for c in candidates if Path(c).is_dir()]
            if not found:
                raise FileNotFoundError(f'data_root: none of {candidates} is a directory')
            data_root = found[0]
            print_log(f'UnpairedFolderDataset: using {data_root} (first existing of '
                      f'{candidates})', logger='current')
        super().__init__(data_root=str(data_root), pipeline=pipeline or [], **kwargs)

    def load_data_list(self) -> List[dict]:
        """One item per image in the chosen sub-folders.

        Returns:
            list[dict]: Items with ``img_path``, ``key`` and ``degradation_type``.

        Raises:
            FileNotFoundError: If a named sub-folder is missing, or no image is found.
        """
        root = Path(self.data_root)
        if self.folders is None:
            if not root.is_dir():
                raise FileNotFoundError(f'{root}: not a directory')
            mapping = {p.name: p.name for p in sorted(root.iterdir()) if p.is_dir()}
        elif isinstance(self.folders, dict):
            mapping = dict(self.folders)
        else:
            mapping = {name: name for name in self.folders}
        items = []
        for folder, kind in mapping.items():
            if folder in self.exclude:
                continue
            if self.skip_missing and not (root / folder).is_dir():
                print_log(f'UnpairedFolderDataset: {root / folder} not found, no {kind!r} '
                          'photos (skip_missing=True)', logger='current', level=30)
                continue
            for path in list_images(root / folder):
                items.append(dict(img_path=str(path), key=f'{folder}/{path.stem}',
                                  degradation_type=kind))
        if not items:
            raise FileNotFoundError(f'{root}: no images in {sorted(set(mapping) - self.exclude)}')
        return items
