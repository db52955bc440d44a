#!/usr/bin/env python
"""Turn a training checkpoint into a released student: its weights only, small, hashed.

Like mmdet's ``tools/model_converters/publish_model.py``: drops the optimizer, the
message hub and every module but the student (``generator.``: never a teacher, a
discriminator or an adapter), stores the weights in float16 (``--dtype``), adds a
``meta`` block (the source config, iteration, what was dropped) and prints the SHA-256
that the model card quotes. The result loads wherever a student checkpoint does:
``UniRemovalPreprocessor(restorer_checkpoint=...)``, ``tools/restore.py``,
``--student`` of ``stage1_table.py``, mmagic's ``init_cfg``.

    python tools/model_converters/publish_student.py \\
        work_dirs/uniremoval_stage1_cpu-release/iter_3600.pth \\
        checkpoints/uniremoval-net-s_stage1-cpu.pth

``--prefix`` takes the network from elsewhere in a checkpoint: the restorer of a detector
fine-tuned jointly with it (``--prefix data_preprocessor.restorer.``; mmdet's
``publish_model.py`` would keep the whole detector), to test it in front of another
detector or on its own.
"""
import argparse
import sys
from collections import OrderedDict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run from a clone, uninstalled

DTYPES = dict(float16=torch.float16, bfloat16=torch.bfloat16, float32=torch.float32)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', help='a training checkpoint (mmengine)')
    parser.add_argument('out_file', help='where to write the released weights')
    parser.add_argument('--dtype', choices=sorted(DTYPES), default='float16')
    parser.add_argument('--prefix', default='generator.',
                        help='the network\'s keys in the checkpoint (default generator.; '
                        'data_preprocessor.restorer. for a jointly fine-tuned detector)')
    parser.add_argument('--max-mib', type=float, default=6.0,
                        help='refuse to write a larger file (the repository limit)')
    return parser.parse_args(argv)


def publish(in_file: str, out_file: str, dtype: str = 'float16',
            max_mib: float = 6.0, prefix: str = 'generator.') -> str:
    """Write the student of ``in_file`` to ``out_file``; return its SHA-256.

    Args:
        in_file (str): A training checkpoint.
        out_file (str): The released file.
        dtype (str): Storage dtype of floating-point tensors. Defaults to float16.
        max_mib (float): Largest file allowed. Defaults to 6.
        prefix (str): The keys of the network to keep (stripped). Defaults to
            ``'generator.'`` (a stage-1/2 checkpoint's student).

    Returns:
        str: SHA-256 of the written file.

    Raises:
        SystemExit: If the checkpoint has no student or the result is too large.
    """
    from uniremoval_mm.utils.checkpoint import (CheckpointError, atomic_torch_save, file_sha256,
                                                load_external_checkpoint, remap_state_dict)
    try:
        raw = load_external_checkpoint(in_file)
    except CheckpointError as e:
        raise SystemExit(str(e))
    full = raw.get('state_dict', raw) if isinstance(raw, dict) else {}
    if not prefix.endswith('.'):
        prefix += '.'
    if not any(k.startswith(prefix) for k in full):
        hint = ' (not a stage-1/2 checkpoint?)' if prefix == 'generator.' else ''
        raise SystemExit(f'{in_file}: no {prefix}* weights{hint}')
    state = remap_state_dict(raw, select_prefix=prefix, strip_prefixes=('module.', prefix))
    depth, parent = prefix.count('.'), prefix.split('.')[0]  # name the dropped modules
    dropped = sorted({'.'.join(k.split('.')[:depth if k.split('.')[0] == parent else 1])
                      for k in full if not k.startswith(prefix)})
    out = OrderedDict((k, v.to(DTYPES[dtype]) if v.is_floating_point() else v)
                      for k, v in state.items())
    meta = dict(raw.get('meta', {}) or {}) if isinstance(raw, dict) else {}
    released = dict(state_dict=out, meta=dict(
        source=str(in_file), iter=meta.get('iter'), epoch=meta.get('epoch'),
        cfg_name=meta.get('experiment_name') or meta.get('exp_name'), dtype=dtype,
        dropped=dropped))
    target = Path(out_file)
    atomic_torch_save(released, target)  # a kill mid-write never leaves a torn release
    size = target.stat().st_size / 2**20
    if size > max_mib:
        target.unlink()
        raise SystemExit(f'{out_file}: {size:.1f} MiB is over --max-mib {max_mib}')
    digest = file_sha256(target)
    print(f'{out_file}: {len(out)} tensors, {sum(v.numel() for v in out.values()):,} '
          f'parameters, {size:.2f} MiB, {dtype}; dropped {dropped or "nothing"}; '
          f'sha256 {digest}')
    return digest


def main(argv=None) -> int:
    args = parse_args(argv)
    publish(args.in_file, args.out_file, args.dtype, args.max_mib, args.prefix)
    return 0


if __name__ == '__main__':
    sys.exit(main())
