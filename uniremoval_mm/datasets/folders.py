"""Restoration benchmarks on disk: paired folders matched by name, unpaired folders."""
import re
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from .checks import check_mode, checked_images, no_files_error, pipeline_min_size, report_skipped
from .realdata_splits import in_split, parse_split

#: How the stem of a degraded file names its clean file's stem, per benchmark layout.
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
        strict (bool): Raise if a degraded file has no clean partner or a file is
            unusable; otherwise skip it (listed in ``unmatched`` or ``skipped``).
            Defaults to True.
        pipeline (list[dict], optional): The data pipeline. Defaults to None.
        check_files (str): What is checked of each file when the dataset is built:
            ``'header'``, ``'decode'`` or ``'none'``. Defaults to ``'header'``.
        max_pixels (int, optional): Refuse images with more pixels. Defaults to None.
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.

    Example layouts: RESIDE SOTS ``hazy/`` + ``clear/`` with ``match='reside'``;
    Rain100L ``rainy/`` + ``clean/``; GoPro ``blur/`` + ``sharp/``; SIDD ``noisy/`` +
    ``gt/`` with ``match='sidd'``.

    A benchmark that silently loses files misreports, so with ``strict=True`` the first
    unusable file **raises** at construction, one line: ``path: problem`` (a file named
    like an image that is empty, unreadable or not an image; a corrupt header; more
    than ``max_pixels``; smaller than the pipeline's crop; with ``check_files=
    'decode'`` also truncated pixel data). ``strict=False`` skips such pairs with one
    warning line each, listed in ``skipped``. A file that passes the header check but
    whose pixels are truncated raises in :class:`LoadImageChecked`.
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
                 check_files: str = 'header',
                 max_pixels: Optional[int] = None,
                 **kwargs) -> None:
        check_mode(type(self).__name__, check_files, max_pixels)
        self.lq_dir, self.gt_dir = lq_dir, gt_dir
        self.rule = _matcher(match)
        self.degradation_type = degradation_type
        self.strict = strict
        self.check_files, self.max_pixels = check_files, max_pixels
        self.unmatched: List[str] = []
        self.skipped: List[str] = []
        super().__init__(data_root=data_root, pipeline=pipeline or [], **kwargs)

    def load_data_list(self) -> List[dict]:
        """One item per degraded file that has a clean partner.

        Returns:
            list[dict]: Items with ``img_path``, ``gt_path``, ``key`` and, if set,
            ``degradation_type``.

        Raises:
            FileNotFoundError: If a folder is missing or empty, or (``strict``) a
                degraded file has no clean partner.
            ImageFileError: (``strict``) ``path: problem`` for an unusable file.
        """
        root = Path(self.data_root)
        owner = type(self).__name__
        args = (self.check_files, self.max_pixels, pipeline_min_size(owner, self.pipeline),
                self.strict)
        lq_files, lq_bad = checked_images(owner, root / self.lq_dir, False, *args)
        gt_files, gt_bad = checked_images(owner, root / self.gt_dir, False, *args)
        self.skipped = lq_bad + gt_bad
        gt_bad_stems = {Path(line.split(': ')[0]).stem for line in gt_bad}
        gt_by_stem = {p.stem: p for p in gt_files}
        report_skipped(owner, self.skipped, len(lq_files) + len(gt_files) + len(self.skipped))
        if not lq_files or not gt_by_stem:
            raise FileNotFoundError(f'{root}: no images in {self.lq_dir}/ or {self.gt_dir}/')
        items = []
        for lq in lq_files:
            gt = gt_by_stem.get(self.rule(lq.stem))
            if gt is None and self.rule(lq.stem) in gt_bad_stems:
                continue  # its clean partner was skipped (reported above)
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
        files (dict[str, Sequence[str]], optional): Per sub-folder, the only file names
            to use (e.g. the test part of a split); a listed name that is not in the
            folder raises. A sub-folder not in the map is used whole. Defaults to None.
        exclude_files (dict[str, Sequence[str]], optional): Per sub-folder, file names
            to leave out (e.g. the test part, from the training set); names not in the
            folder are ignored (so one split serves several candidate roots). Defaults
            to None.
        skip_missing (bool): A named sub-folder that does not exist is skipped with a
            warning instead of an error (candidate roots need not have the same kinds).
            Defaults to False.
        split (str, optional): Keep only one part of DAWN's fog photos:
            ``'dawn-calibration'`` (numbers divisible by 3, the unlabelled pool a
            restorer may learn from), its folds ``'dawn-calibration-fit'`` /
            ``'dawn-calibration-tune'``, or ``'dawn-acceptance'`` (the rest, measured
            only); see :mod:`uniremoval_mm.datasets.realdata_splits`. Every file must then
            carry a DAWN name. Defaults to None (all files).
        pipeline (list[dict], optional): The data pipeline. Defaults to None.
        check_files (str): What is checked of each photo when the dataset is built:
            ``'header'``, ``'decode'`` or ``'none'``. Defaults to ``'header'``.
        max_pixels (int, optional): Skip photos with more pixels. Defaults to None.
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.

    Folders of real photos are the user's: unusable files are **skipped and reported**,
    one warning line each, and listed in ``skipped`` (as in
    :class:`SyntheticPairedDataset`: empty, unreadable, not an image, a corrupt header,
    more than ``max_pixels``, smaller than the pipeline's crop). A folder with no
    usable photo raises. Truncated pixel data is found by ``check_files='decode'`` or
    by the loader (:class:`LoadImageChecked`).
    """

    METAINFO = dict(dataset_type='unpaired_folder', task_name='restoration')

    def __init__(self,
                 data_root: Union[str, Sequence[str]],
                 folders: Union[Sequence[str], Dict[str, str], None] = None,
                 exclude: Sequence[str] = (),
                 files: Optional[Dict[str, Sequence[str]]] = None,
                 exclude_files: Optional[Dict[str, Sequence[str]]] = None,
                 skip_missing: bool = False,
                 split: Optional[str] = None,
                 pipeline: Optional[List[Union[dict, Callable]]] = None,
                 check_files: str = 'header',
                 max_pixels: Optional[int] = None,
                 **kwargs) -> None:
        check_mode(type(self).__name__, check_files, max_pixels)
        if split is not None:
            parse_split(split)
        self.split = split
        for name, value in (('files', files), ('exclude_files', exclude_files)):
            if value is not None and (not isinstance(value, dict) or any(
                    isinstance(v, str) for v in value.values())):
                raise TypeError(f'{name} must map a sub-folder to a list of file names, '
                                f'got {value!r}')
        self.folders = folders
        self.exclude = set(exclude)
        self.files = {k: set(v) for k, v in (files or {}).items()}
        self.exclude_files = {k: set(v) for k, v in (exclude_files or {}).items()}
        self.skip_missing = skip_missing
        self.check_files, self.max_pixels = check_files, max_pixels
        self.skipped: List[str] = []
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
        owner = type(self).__name__
        min_size = pipeline_min_size(owner, self.pipeline)
        items, self.skipped = [], []
        for folder, kind in mapping.items():
            if folder in self.exclude:
                continue
            if self.skip_missing and not (root / folder).is_dir():
                print_log(f'UnpairedFolderDataset: {root / folder} not found, no {kind!r} '
                          'photos (skip_missing=True)', logger='current', level=30)
                continue
            paths, bad = checked_images(owner, root / folder, True, self.check_files,
                                        self.max_pixels, min_size, strict=False)
            paths, bad = self._select(folder, root, paths, bad)
            self.skipped += bad
            for path in paths:
                items.append(dict(img_path=str(path), key=f'{folder}/{path.stem}',
                                  degradation_type=kind))
        report_skipped(owner, self.skipped, len(items) + len(self.skipped))
        if not items:
            raise no_files_error(
                f'{root}: no images in {sorted(set(mapping) - self.exclude)}', self.skipped)
        return items

    def _select(self, folder: str, root: Path, paths: List[Path],
                bad: List[str]) -> Tuple[List[Path], List[str]]:
        """Apply ``files`` / ``exclude_files`` of one sub-folder to its usable photos and
        its skipped lines (``path: problem``)."""
        keep, drop = self.files.get(folder), self.exclude_files.get(folder, set())
        if keep is not None:
            found = {p.name for p in paths} | {Path(line.split(': ')[0]).name for line in bad}
            missing = sorted(keep - found)
            if missing:
                raise FileNotFoundError(f'{root / folder}: files {missing} are listed in '
                                        '`files` but not there')

        def use(name: str) -> bool:
            if self.split is not None and not in_split(name, self.split):
                return False
            return (keep is None or name in keep) and name not in drop

        return ([p for p in paths if use(p.name)],
                [line for line in bad if use(Path(line.split(': ')[0]).name)])
