"""What ``tools/train.py`` and ``tools/test.py`` share: config loading, runner building.

Kept in the package (not in ``tools/``) so that both entry points and the tests use one
copy. Behaviour follows MMDetection 3.3's ``tools/train.py`` / ``tools/test.py``.
"""
import os.path as osp
from pathlib import Path
from typing import Optional

from mmengine.config import Config
from mmengine.runner import Runner

from .config_checks import check_config
from .errors import UsageError

__all__ = [
    'AMP_WRAPPERS', 'UsageError', 'add_result_dump', 'add_runner_arguments', 'build_runner',
    'enable_visualization', 'load_config', 'parse_runner_arguments', 'run_cli',
    'strip_training', 'use_paired_folder'
]

#: What ``--amp`` turns each optimiser wrapper into (the NaN/Inf guard keeps guarding).
AMP_WRAPPERS = dict(OptimWrapper='AmpOptimWrapper',
                    NonFiniteGuardOptimWrapper='NonFiniteGuardAmpOptimWrapper')


def add_runner_arguments(parser, cfg_options_example: str) -> None:
    """Add the flags that train.py and test.py share, as mmdet names them.

    Adds ``--cfg-options``, ``--launcher`` and ``--local_rank``/``--local-rank``.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
        cfg_options_example (str): An example override shown in the help.
    """
    from mmengine.config import DictAction
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help=f'override config settings, e.g. {cfg_options_example}')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_arguments(parser, argv=None):
    """Parse, and export ``LOCAL_RANK`` for the launcher as mmdet's tools do.

    Args:
        parser (argparse.ArgumentParser): A parser with :func:`add_runner_arguments`.
        argv (list[str], optional): Arguments. Defaults to None (``sys.argv``).

    Returns:
        argparse.Namespace: The parsed arguments.
    """
    import os
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(path: str,
                cfg_options: Optional[dict] = None,
                work_dir: Optional[str] = None,
                launcher: str = 'none',
                amp: bool = False,
                auto_scale_lr: bool = False) -> Config:
    """Read a config and apply the command-line overrides, as mmdet's tools do.

    Args:
        path (str): Config file.
        cfg_options (dict, optional): ``--cfg-options`` overrides. Defaults to None.
        work_dir (str, optional): ``--work-dir``; else the config's ``work_dir``, else
            ``./work_dirs/<config name>``. Defaults to None.
        launcher (str): ``--launcher``. Defaults to ``'none'``.
        amp (bool): Turn every ``OptimWrapper`` into an ``AmpOptimWrapper`` and every
            ``NonFiniteGuardOptimWrapper`` into a ``NonFiniteGuardAmpOptimWrapper``.
            Defaults to False.
        auto_scale_lr (bool): Enable the config's ``auto_scale_lr``. Defaults to False.

    Returns:
        Config: The ready config.

    Raises:
        UsageError: If ``path`` is not a file, if ``--amp`` or the slurm / mpi
            launcher is asked for without a GPU (``pytorch`` runs on CPU with gloo),
            ``--auto-scale-lr`` for a config without ``auto_scale_lr.base_batch_size``,
            or a whole-config check fails (``uniremoval_mm.utils.config_checks``).
    """
    if not Path(path).is_file():
        raise UsageError(f'config file not found: {path}')
    if launcher in ('slurm', 'mpi'):
        import torch
        if not torch.cuda.is_available():
            raise UsageError(
                f'--launcher {launcher} needs CUDA GPUs: mmengine 0.10.7 binds every '
                'process to a GPU (torch.cuda.set_device); none is visible (on CPU, use '
                '--launcher pytorch: gloo)')
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    check_config(cfg)  # one-line errors naming the field, before anything is built
    if amp:
        _enable_amp(cfg)
    if auto_scale_lr:
        scale = cfg.get('auto_scale_lr', None)
        if not scale or 'base_batch_size' not in scale:
            raise UsageError(
                f'--auto-scale-lr: {path} has no auto_scale_lr.base_batch_size to scale from')
        cfg.auto_scale_lr.enable = True
    return cfg


def _enable_amp(cfg: Config) -> None:
    import torch
    if not torch.cuda.is_available():
        raise UsageError('--amp needs a CUDA GPU (mmengine\'s AmpOptimWrapper); none is visible')
    wrappers = cfg.optim_wrapper
    # A single wrapper, or a dict of wrappers (e.g. generator + discriminator).
    targets = [wrappers] if 'optimizer' in wrappers else [
        w for w in wrappers.values() if isinstance(w, dict) and 'optimizer' in w]
    for wrapper in targets:
        kind = wrapper.get('type', 'OptimWrapper')
        if kind in AMP_WRAPPERS:
            wrapper.type = AMP_WRAPPERS[kind]
            wrapper.setdefault('loss_scale', 'dynamic')


def build_runner(cfg: Config) -> Runner:
    """Build the runner a config asks for (``runner_type``), else mmengine's Runner.

    Args:
        cfg (Config): A config from :func:`load_config`.

    Returns:
        Runner: The runner.
    """
    from mmdet.utils import setup_cache_size_limit_of_dynamo
    setup_cache_size_limit_of_dynamo()
    if 'runner_type' not in cfg:
        return Runner.from_cfg(cfg)
    from mmengine.registry import RUNNERS
    return RUNNERS.build(cfg)


def enable_visualization(cfg: Config,
                         show: bool = False,
                         show_dir: Optional[str] = None,
                         wait_time: float = 2) -> None:
    """Make the config's visualization hook draw test predictions (``--show[-dir]``).

    Args:
        cfg (Config): The config to change in place.
        show (bool): Show each drawn image in a window. Defaults to False.
        show_dir (str, optional): Folder, under the work dir, for drawn images.
            Defaults to None.
        wait_time (float): Seconds a shown image stays up. Defaults to 2.

    Raises:
        UsageError: If the config has no visualization hook that can draw.
    """
    hook = cfg.get('default_hooks', {}).get('visualization', None)
    scope = hook.get('_scope_', cfg.get('default_scope')) if hook else None
    if hook is None or 'draw' not in _hook_arguments(hook.get('type'), scope):
        raise UsageError(
            '--show/--show-dir need default_hooks.visualization to be a hook with a '
            f'`draw` switch (e.g. mmdet\'s DetVisualizationHook); this config has {hook}')
    hook['draw'] = True
    if show:
        hook['show'] = True
        hook['wait_time'] = wait_time
    if show_dir:
        hook['test_out_dir'] = show_dir


def _hook_arguments(hook_type, scope: Optional[str]) -> set:
    import inspect

    from mmengine.registry import HOOKS
    if isinstance(hook_type, type):
        cls = hook_type
    else:
        with HOOKS.switch_scope_and_registry(scope) as registry:
            cls = registry.get(hook_type)
    return set(inspect.signature(cls.__init__).parameters) if cls else set()


def strip_training(cfg: Config) -> None:
    """Drop what only training needs, so testing never builds (or needs) training data.

    mmagic's test loops read ``runner.iter``, which builds the train loop, and with it
    the training dataset, if the config still describes one. mmengine's runner takes
    ``train_dataloader``, ``train_cfg``, ``optim_wrapper`` and ``param_scheduler`` as all
    None for test-only use.

    Args:
        cfg (Config): The config, changed in place.
    """
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler'):
        cfg[key] = None


def use_paired_folder(cfg: Config, root: str, lq_dir: str, gt_dir: str,
                      match: str = 'same') -> None:
    """Make the test set one folder of degraded/clean pairs (``--paired-folder``).

    Replaces ``test_dataloader`` / ``test_evaluator`` with a ``PairedFolderDataset``
    and mmagic's PSNR and SSIM in RGB and in Y (prefixes ``rgb`` and ``y``).

    Args:
        cfg (Config): A restoration config (mmagic scope), changed in place.
        root (str): The benchmark folder.
        lq_dir (str): Sub-folder of degraded images.
        gt_dir (str): Sub-folder of clean images.
        match (str): How names match (see ``PairedFolderDataset``). Defaults to
            ``'same'``.

    Raises:
        UsageError: If the folder or a sub-folder is missing.
    """
    for sub in (lq_dir, gt_dir):
        if not (Path(root) / sub).is_dir():
            raise UsageError(f'--paired-folder: {Path(root) / sub} is not a directory')
    pipeline = [
        dict(type='LoadImageChecked', key='img', channel_order='rgb'),
        dict(type='LoadImageChecked', key='gt', channel_order='rgb'),
        dict(type='PackInputs'),
    ]
    cfg.test_dataloader = dict(
        num_workers=0, persistent_workers=False, drop_last=False, batch_size=1,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='PairedFolderDataset', data_root=root, lq_dir=lq_dir, gt_dir=gt_dir,
                     match=match, pipeline=pipeline))
    cfg.test_evaluator = [dict(type='PSNR', prefix='rgb'), dict(type='SSIM', prefix='rgb'),
                          dict(type='PSNR', convert_to='Y', prefix='y'),
                          dict(type='SSIM', convert_to='Y', prefix='y')]
    cfg.test_cfg = dict(type='MultiTestLoop')


def add_result_dump(runner: Runner, out: str, overwrite: bool = False) -> None:
    """Dump raw test predictions to a pickle file (``--out``).

    Args:
        runner (Runner): A runner about to test.
        out (str): Output pickle path (``.pkl`` or ``.pickle``).
        overwrite (bool): Replace an existing file. Defaults to False.

    Raises:
        UsageError: If ``out`` is not a pickle path, or exists and ``overwrite`` is
            False.
    """
    if not out.endswith(('.pkl', '.pickle')):
        raise UsageError(f'--out must be a .pkl or .pickle file, got {out}')
    if osp.exists(out) and not overwrite:
        raise UsageError(f'--out {out} already exists; pass --overwrite to replace it')
    if runner.cfg.get('default_scope', None) == 'mmdet':
        from mmdet.evaluation import DumpDetResults as Dump
    else:
        from mmengine.evaluator import DumpResults as Dump
    runner.test_evaluator.metrics.append(Dump(out_file_path=out))


def run_cli(main, argv=None) -> int:
    """Run a tool's ``main``; print a :class:`UsageError` as one line and return 2.

    Args:
        main (Callable): The tool's main function, taking ``argv``; it may return an
            exit code (None counts as 0).
        argv (list[str], optional): Arguments. Defaults to None (``sys.argv``).

    Returns:
        int: The exit code.
    """
    import sys
    try:
        return main(argv) or 0
    except UsageError as e:
        print(f'{Path(sys.argv[0]).name}: error: {e}', file=sys.stderr)
        return 2
