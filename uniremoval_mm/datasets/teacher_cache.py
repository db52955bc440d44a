"""Stage 1's teacher cache: degraded crops with their teachers' outputs, made once.

Frozen teachers cost most of a stage-1 step on a CPU (PReNet and DnCNN are bigger than
the student). Their outputs depend only on the degraded crop, so
``tools/misc/build_teacher_cache.py`` synthesises a fixed set of training crops, runs
each crop's teacher once, and writes ``lq/``, ``gt/`` and ``teacher/`` PNGs plus
``manifest.json``. :class:`TeacherCacheDataset` serves them (the teacher's output as
``ref``, which mmagic packs as ``ref_img``) and the distiller uses them instead of
running the teacher.

The manifest records what the cache was made from: the photos (SHA-256 of each file),
the resolved teacher configs and the SHA-256 of their checkpoint files, the degradation
pipeline, crop size, count and seed. The dataset refuses a cache whose teachers or
photos differ from the config's (one line naming what changed and the command that
rebuilds it).
"""
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from mmagic.registry import DATASETS
from mmengine.dataset import BaseDataset

from ..utils.checkpoint import file_sha256
from ..utils.teacher_configs import resolve_teachers

MANIFEST = 'manifest.json'
CACHE_VERSION = 1


def teacher_fingerprint(resolved: Dict[str, Optional[dict]]) -> Dict[str, Optional[dict]]:
    """What identifies each teacher: its config and its local checkpoint's SHA-256.

    Args:
        resolved (dict[str, dict | None]): Teacher config per degradation type, after
            fallbacks (:func:`~uniremoval_mm.utils.teacher_configs.resolve_teachers`).

    Returns:
        dict[str, dict | None]: JSON-able fingerprint per type (None: no teacher).
    """
    out: Dict[str, Optional[dict]] = {}
    for kind, cfg in sorted(resolved.items()):
        if cfg is None:
            out[kind] = None
            continue
        cfg = json.loads(json.dumps(dict(cfg), sort_keys=True, default=str))
        ckpt = cfg.get('checkpoint')
        sha = (file_sha256(Path(ckpt)) if ckpt and Path(str(ckpt)).is_file() else None)
        out[kind] = dict(config=cfg, checkpoint_sha256=sha)
    return out


def photo_fingerprint(photos: Sequence[Path]) -> Dict[str, str]:
    """File name -> SHA-256 of each photo.

    Args:
        photos (Sequence[Path]): The photos.

    Returns:
        dict[str, str]: The fingerprint.
    """
    return {p.name: file_sha256(p) for p in sorted(photos)}


def rebuild_hint(config: str = '<config>') -> str:
    """The command that (re)builds a cache."""
    return f'python tools/misc/build_teacher_cache.py {config}'


@DATASETS.register_module()
class TeacherCacheDataset(BaseDataset):
    """Cached stage-1 samples: degraded crop, clean crop and the teacher's output.

    Each item has ``img_path`` (degraded), ``gt_path`` (clean), ``ref_path`` (the
    teacher's output; the clean crop for types without a teacher, flagged
    ``has_teacher=False``) and ``degradation_type``. Load them with three
    ``LoadImageChecked`` (keys ``img``, ``gt``, ``ref``), augment them together (e.g.
    mmagic's ``Flip`` and ``RandomTransposeHW`` with all three keys) and pack them with
    ``PackInputs(meta_keys=['degradation_type', 'has_teacher'])``: mmagic's data sample
    carries the teacher's output as ``ref_img``.

    Args:
        data_root (str): The cache folder (with ``manifest.json``).
        teachers (dict[str, dict | None], optional): The config's teachers; when given,
            the cache must have been made by the same teachers (configs and checkpoint
            files) or the dataset refuses it. Defaults to None (not checked).
        teacher_fallbacks (dict[str, dict | None], optional): The config's fallbacks,
            resolved as the distiller does. Defaults to None.
        missing_teacher (str): The config's policy for missing checkpoints. Defaults to
            ``'fallback'``.
        check_photos (bool): Re-hash the source photos named in the manifest (when their
            folder exists) and refuse the cache if one changed. Defaults to True.
        degradation_types (Sequence[str], optional): Keep only these types. Defaults to
            None (all in the cache).
        pipeline (list[dict]): The data pipeline. Defaults to [].
        **kwargs: Other arguments of ``mmengine.dataset.BaseDataset``.
    """

    METAINFO = dict(dataset_type='teacher_cache', task_name='restoration')

    def __init__(self,
                 data_root: str,
                 teachers: Optional[Dict[str, Optional[dict]]] = None,
                 teacher_fallbacks: Optional[Dict[str, Optional[dict]]] = None,
                 missing_teacher: str = 'fallback',
                 check_photos: bool = True,
                 degradation_types: Optional[Sequence[str]] = None,
                 pipeline: Optional[List[dict]] = None,
                 **kwargs) -> None:
        self.teachers = teachers
        self.teacher_fallbacks = teacher_fallbacks
        self.missing_teacher = missing_teacher
        self.check_photos = check_photos
        self.degradation_types = tuple(degradation_types) if degradation_types else None
        self.manifest: dict = {}
        super().__init__(data_root=data_root, pipeline=pipeline or [], **kwargs)

    def _stale(self, why: str) -> ValueError:
        config = self.manifest.get('config', '<config>')
        return ValueError(f'{self.data_root}: teacher cache is stale ({why}); rebuild it with '
                          f'{rebuild_hint(config)}')

    def load_data_list(self) -> List[dict]:
        """Read and check the manifest; one item per cached sample.

        Returns:
            list[dict]: The items.

        Raises:
            FileNotFoundError: If the folder or its manifest is missing.
            ValueError: If the manifest is unreadable or the cache is stale.
        """
        root = Path(self.data_root)
        path = root / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f'{path}: no teacher cache here; build it with '
                                    f'{rebuild_hint()}')
        try:
            self.manifest = json.loads(path.read_text())
        except (OSError, ValueError) as err:
            raise ValueError(f'{path}: unreadable manifest ({err}); rebuild the cache with '
                             f'{rebuild_hint()}') from None
        if self.manifest.get('version') != CACHE_VERSION or 'items' not in self.manifest:
            raise self._stale(f'manifest version {self.manifest.get("version")!r}, this code '
                              f'reads {CACHE_VERSION}')
        if self.teachers is not None:
            resolved = resolve_teachers(self.teachers, self.teacher_fallbacks or {},
                                        self.missing_teacher)
            now = teacher_fingerprint(resolved)
            was = self.manifest.get('teachers', {})
            for kind in sorted(set(now) | set(was)):
                if now.get(kind) != was.get(kind):
                    raise self._stale(f'the teacher for {kind!r} differs from the one that '
                                      'made it (config or checkpoint file)')
        photo_root = Path(self.manifest.get('photo_root', ''))
        if self.check_photos and photo_root.is_dir():
            recorded = self.manifest.get('photos', {})
            for name, sha in recorded.items():
                p = photo_root / name
                if not p.is_file() or file_sha256(p) != sha:
                    raise self._stale(f'source photo {p} changed or is missing')
        items = []
        for item in self.manifest['items']:
            kind = item['degradation_type']
            if self.degradation_types and kind not in self.degradation_types:
                continue
            has_teacher = bool(item['has_teacher'])
            items.append(dict(
                key=item['key'], degradation_type=kind, has_teacher=has_teacher,
                img_path=str(root / 'lq' / item['file']),
                gt_path=str(root / 'gt' / item['file']),
                ref_path=str(root / ('teacher' if has_teacher else 'gt') / item['file'])))
        if not items:
            raise FileNotFoundError(f'{root}: the cache holds no sample of types '
                                    f'{list(self.degradation_types or [])}')
        return items
