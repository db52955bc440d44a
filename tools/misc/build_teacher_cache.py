#!/usr/bin/env python
"""Build a stage-1 config's teacher cache: degraded crops and their teachers' outputs.

Reads the config's ``teacher_cache`` dict (``photo_root``, ``out``, ``samples_per_type``,
``crop_size``, ``seed``, ``degradation_types``, optional ``degradations``: the
``AddTypedDegradation`` settings) and its ``model.teachers`` / ``teacher_fallbacks``.
For each type and each index it cuts a seeded random crop of a clean photo, degrades it,
runs the type's teacher on it (in batches) and writes ``lq/``, ``gt/``, ``teacher/`` PNGs
and ``manifest.json`` (see :mod:`uniremoval_mm.datasets.teacher_cache`).

A run whose sources (photos, teacher configs and checkpoint files, settings) match the
manifest does nothing; a changed source rebuilds. An interrupted run resumes from the
files it wrote (in ``<out>.partial``). It never writes into a folder it did not make.

    python tools/misc/build_teacher_cache.py configs/uniremoval_stage1_cpu-release.py
"""
import argparse
import hashlib
import json
import shutil
import sys
import warnings
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='a stage-1 config with a teacher_cache dict')
    parser.add_argument('--out', help='override teacher_cache.out')
    parser.add_argument('--samples-per-type', type=int, help='override the config\'s count')
    parser.add_argument('--batch', type=int, default=8, help='crops per teacher call')
    parser.add_argument('--threads', type=int, default=None, help='torch threads')
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. teacher_cache.crop_size=64')
    return parser.parse_args(argv)


def _settings(cfg, args) -> dict:
    from uniremoval_mm.utils.constants import DEGRADATION_TYPES
    if 'teacher_cache' not in cfg:
        raise SystemExit(f'{args.config}: has no teacher_cache dict (photo_root, out, '
                         'samples_per_type, crop_size, seed, degradation_types)')
    tc = dict(cfg.teacher_cache)
    missing = [k for k in ('photo_root', 'out', 'samples_per_type', 'crop_size')
               if k not in tc]
    if missing:
        raise SystemExit(f'{args.config}: teacher_cache lacks {missing}')
    if args.out:
        tc['out'] = args.out
    if args.samples_per_type:
        tc['samples_per_type'] = args.samples_per_type
    tc.setdefault('seed', 0)
    tc.setdefault('degradation_types', list(cfg.model.get('degradation_types')
                                            or DEGRADATION_TYPES))
    tc.setdefault('degradations', None)
    return json.loads(json.dumps(tc, default=str))


def _made_by_us(folder: Path) -> bool:
    return (folder / 'manifest.json').is_file() or (folder / 'SOURCE_KEY').is_file()


def main(argv=None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings('ignore')
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmagic.registry import MODELS
    from mmengine.registry import TRANSFORMS, DefaultScope
    from tqdm import tqdm

    from uniremoval_mm.datasets.image_files import list_images, read_image, to_rgb8
    from uniremoval_mm.datasets.teacher_cache import (CACHE_VERSION, MANIFEST, photo_fingerprint,
                                                      teacher_fingerprint)
    from uniremoval_mm.utils.cli import load_config
    from uniremoval_mm.utils.teacher_configs import resolve_teachers

    cfg = load_config(args.config, args.cfg_options)
    tc = _settings(cfg, args)
    out = Path(tc['out'])
    photo_root = Path(tc['photo_root'])
    if not photo_root.is_dir():
        raise SystemExit(f'teacher_cache.photo_root: {photo_root} is not a folder (build it '
                         'with python tools/dataset_converters/collect_clean_photos.py)')
    photos = list_images(photo_root)
    crop = int(tc['crop_size'])
    images = {}
    for p in photos:
        rgb = to_rgb8(read_image(p))
        if min(rgb.shape[:2]) < crop:
            print(f'{p}: {rgb.shape[1]}x{rgb.shape[0]} is smaller than the {crop}-px crop; '
                  'skipped', file=sys.stderr)
            continue
        images[p.name] = rgb
    if not images:
        raise SystemExit(f'{photo_root}: no photo of at least {crop} px')
    model = cfg.model
    resolved = resolve_teachers(dict(model.get('teachers') or {}),
                                dict(model.get('teacher_fallbacks') or {}),
                                model.get('missing_teacher', 'fallback'))
    source = dict(version=CACHE_VERSION, config=args.config, photo_root=str(photo_root),
                  photos=photo_fingerprint([photo_root / n for n in images]),
                  teachers=teacher_fingerprint(resolved), crop_size=crop,
                  samples_per_type=int(tc['samples_per_type']), seed=int(tc['seed']),
                  degradation_types=list(tc['degradation_types']),
                  degradations=tc['degradations'])
    # Sample i of a type depends on the sources and the seed, not on the count: the
    # partial folder is keyed without it, so a run with another count reuses its files.
    key = hashlib.sha256(json.dumps(
        {k: v for k, v in source.items() if k not in ('config', 'samples_per_type')},
        sort_keys=True).encode()).hexdigest()
    if (out / MANIFEST).is_file():
        old = json.loads((out / MANIFEST).read_text())
        if old.get('key') == key and old.get('samples_per_type') == source['samples_per_type']:
            print(f'{out}: up to date ({len(old["items"])} samples)')
            return 0
        print(f'{out}: made from other sources; rebuilding')
    elif out.exists() and any(out.iterdir()):
        raise SystemExit(f'{out}: exists and is not a teacher cache; choose another out')
    partial = out.with_name(out.name + '.partial')
    if partial.exists() and (not _made_by_us(partial)
                             or (partial / 'SOURCE_KEY').read_text() != key):
        if not _made_by_us(partial):
            raise SystemExit(f'{partial}: exists and was not made by this tool')
        shutil.rmtree(partial)
    for sub in ('lq', 'gt', 'teacher'):
        (partial / sub).mkdir(parents=True, exist_ok=True)
    (partial / 'SOURCE_KEY').write_text(key)

    degrade = TRANSFORMS.build(dict(type='AddTypedDegradation', seed=int(tc['seed']),
                                    **({'degradations': tc['degradations']}
                                       if tc['degradations'] else {})))
    with DefaultScope.overwrite_default_scope('mmagic'):
        teachers = {k: MODELS.build(c).eval() for k, c in resolved.items() if c is not None}
    names = sorted(images)
    types = list(tc['degradation_types'])
    total = len(types) * source['samples_per_type']
    items = []
    bar = tqdm(total=total, desc='teacher cache', unit='crop', dynamic_ncols=True)
    for t_idx, kind in enumerate(types):
        teacher = teachers.get(kind)
        pending = []  # (file, lq) waiting for the teacher

        def flush():
            if not pending:
                return
            x = torch.stack([torch.from_numpy(lq).permute(2, 0, 1) for _, lq in pending])
            with torch.no_grad():
                y = teacher(x.float() / 255).clamp(0, 1)
            for (file, _), img in zip(pending, y):
                rgb = img.mul(255).round().byte().permute(1, 2, 0).numpy()
                cv2.imwrite(str(partial / 'teacher' / file), rgb[..., ::-1])
            pending.clear()

        for i in range(source['samples_per_type']):
            file = f'{kind}_{i:05d}.png'
            items.append(dict(key=file[:-4], file=file, degradation_type=kind,
                              has_teacher=teacher is not None))
            done = [(partial / s / file).is_file() for s in ('lq', 'gt', 'teacher')]
            if all(done[:2]) and (done[2] or teacher is None):
                bar.update(1)
                continue
            rng = np.random.default_rng([int(tc['seed']), t_idx, i])
            name = names[int(rng.integers(len(names)))]
            img = images[name]
            y0 = int(rng.integers(0, img.shape[0] - crop + 1))
            x0 = int(rng.integers(0, img.shape[1] - crop + 1))
            gt = np.ascontiguousarray(img[y0:y0 + crop, x0:x0 + crop])
            if rng.random() < 0.5:
                gt = np.ascontiguousarray(gt[:, ::-1])
            res = degrade(dict(gt=gt.copy(), img_path=f'{name}#{kind}#{i}',
                               degradation_type=kind))
            lq = np.clip(res['img'], 0, 255).astype(np.uint8)
            cv2.imwrite(str(partial / 'gt' / file), gt[..., ::-1])
            cv2.imwrite(str(partial / 'lq' / file), lq[..., ::-1])
            if teacher is not None:
                pending.append((file, lq))
                if len(pending) >= args.batch:
                    flush()
            bar.update(1)
        if teacher is not None:
            flush()
    bar.close()
    manifest = dict(source, key=key, items=items)
    (partial / MANIFEST).write_text(json.dumps(manifest, indent=1))
    (partial / 'SOURCE_KEY').unlink()
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    print(f'{out}: {len(items)} samples ({", ".join(types)}), teachers: '
          f'{", ".join(f"{k}={type(t.model).__name__}" for k, t in teachers.items())}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
