"""Shim: mmengine 0.10.7's ``pytorch`` launcher on CPU-only machines (gloo).

Problem. ``mmengine.dist.init_dist('pytorch')`` calls ``torch.cuda.set_device(local_rank)``
unconditionally, so every process dies with ``RuntimeError: ... no CUDA GPUs`` (or
"Torch not compiled with CUDA") before ``init_process_group``, and configs ask for the
``nccl`` backend, which needs GPUs. Past that, ``Runner.wrap_model`` passes
``device_ids=[LOCAL_RANK]`` to ``MMDistributedDataParallel``, which torch refuses for a
CPU module ("device_ids ... only work with ... GPU modules").

Fix. Only where CUDA is not available: initialise the process group without binding a
GPU, with ``gloo`` when ``nccl`` was asked for (with a warning), and drop ``device_ids``
when DDP wraps a module whose parameters are on the CPU. With CUDA nothing changes.

Remove this module when mmengine supports CPU distributed training itself (not the case
up to 0.10.7).
"""
import functools
import os
import warnings

import torch
import torch.distributed as torch_dist
from mmengine.dist import utils as dist_utils
from mmengine.model import MMDistributedDataParallel

__all__ = ['apply', 'is_applied']

_MARK = '_uniremoval_cpu_distributed'


def _init_dist_pytorch_cpu(original):

    @functools.wraps(original)
    def init(backend='nccl', init_backend='torch', **kwargs):
        if torch.cuda.is_available() or init_backend != 'torch':
            return original(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            warnings.warn('dist_cfg.backend=nccl needs CUDA GPUs and none is visible: '
                          'using gloo')
            backend = 'gloo'
        torch_dist.init_process_group(
            backend=backend, rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']), **kwargs)

    setattr(init, _MARK, True)
    return init


def _ddp_init_cpu(original):

    @functools.wraps(original)
    def init(self, module, *args, device_ids=None, **kwargs):
        on_cpu = all(p.device.type == 'cpu' for p in module.parameters())
        if device_ids is not None and on_cpu and not torch.cuda.is_available():
            device_ids = None  # torch's DDP takes no device_ids for a CPU module
        original(self, module, *args, device_ids=device_ids, **kwargs)

    setattr(init, _MARK, True)
    return init


def is_applied() -> bool:
    """Whether :func:`apply` has run in this process."""
    return getattr(dist_utils._init_dist_pytorch, _MARK, False)


def apply() -> None:
    """Patch mmengine's pytorch launcher and its DDP wrapper (idempotent)."""
    if is_applied():
        return
    dist_utils._init_dist_pytorch = _init_dist_pytorch_cpu(dist_utils._init_dist_pytorch)
    MMDistributedDataParallel.__init__ = _ddp_init_cpu(MMDistributedDataParallel.__init__)
