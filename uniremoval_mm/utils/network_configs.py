"""Which network a config, a config file or a name describes, as a buildable config.

One resolver serves the inference API (:func:`uniremoval_mm.apis.init_restorer`), the
frozen teachers (their ``model`` argument) and the tools, so a config file means the
same network everywhere: its ``model.generator`` (a distiller, calibrator or mmagic
editor wraps the network there), else its ``model``.
"""
from pathlib import Path
from typing import Optional, Union

from mmengine.config import Config

__all__ = ['network_cfg']

_CONFIG_SUFFIXES = ('.py', '.json', '.yaml', '.yml')  # what mmengine's Config reads


def network_cfg(config_or_name: Union[str, Path, Config, dict],
                overrides: Optional[dict] = None,
                require_generator: bool = False) -> dict:
    """The config of the image-to-image network that a config or a name describes.

    Args:
        config_or_name (str | Path | Config | dict): One of

            - a config file (``*.py``) or a host config (``'mmagic::nafnet/...py'``);
            - a loaded :class:`~mmengine.config.Config`, or a dict with a ``model``;
            - the network's own config (a dict with ``type``);
            - a student size (``'T'``, ``'S'``, ``'B'``, see
              :data:`uniremoval_mm.models.SIZES`) or a network registered in mmagic's
              ``MODELS`` (``'UniRemovalNetS'``, ``'NAFNet'``).
        overrides (dict, optional): Network arguments that replace the config's
            (e.g. ``dict(mid_channels=32)``). Defaults to None.
        require_generator (bool): Accept only a config whose ``model.generator`` is the
            network (a teacher's checkpoint comes from such a config); otherwise a
            config whose ``model`` is the network itself is accepted too. Defaults to
            False.

    Returns:
        dict: A plain dict with ``type`` and ``_scope_`` (the config's default scope,
        else ``'mmagic'``, where our networks are registered), buildable with
        ``mmagic.registry.MODELS.build``.

    Raises:
        FileNotFoundError: A config file that does not exist (the message names it).
        ValueError: A config that cannot be read or has no network, or an unknown name.
    """
    source = config_or_name
    if isinstance(source, Path) or (isinstance(source, str) and _is_config_path(source)):
        source = _read_config(str(source))
    if isinstance(source, str):
        cfg = _named_cfg(source)
    else:
        cfg = _cfg_of(source, require_generator)
    cfg.update(overrides or {})
    return cfg


def _is_config_path(text: str) -> bool:
    """A config file's path (existing or not), rather than a size or a network name."""
    from ..models.students import SIZES
    if text in SIZES:
        return False
    return ('::' in text or '/' in text or Path(text).suffix in _CONFIG_SUFFIXES
            or Path(text).is_file())


def _read_config(path: str) -> Config:
    """A config file, or a host config such as ``'mmagic::nafnet/...py'``."""
    if '::' not in path and not Path(path).is_file():
        raise FileNotFoundError(f'config file not found: {path}')
    try:
        if '::' in path:
            from mmengine.hub import get_config
            return get_config(path)
        return Config.fromfile(path)
    except Exception as e:  # noqa: BLE001  (any config error becomes one line)
        raise ValueError(f'{path}: cannot read the config ({type(e).__name__}: {e})') from e


def _cfg_of(cfg: Union[Config, dict], require_generator: bool) -> dict:
    """The network of a whole config (``model.generator`` or ``model``) or of its own."""
    name = getattr(cfg, 'filename', None) or 'the config'
    if isinstance(cfg, dict) and 'type' in cfg:  # the network's own config
        net = dict(cfg)
        net.setdefault('_scope_', 'mmagic')
        return net
    model = cfg.get('model', None) or {}
    generator = model.get('generator', None)
    if require_generator and not generator:
        raise ValueError(f'{name}: has no model.generator to build')
    net = dict(generator or model)
    if 'type' not in net:
        raise ValueError(f'{name}: has no model.generator or model to build')
    net.setdefault('_scope_', cfg.get('default_scope', None) or 'mmagic')
    return net


def _named_cfg(name: str) -> dict:
    """A student size or a registered network's name, as a config."""
    from mmagic.registry import MODELS
    from mmengine.registry import DefaultScope

    from ..models.students import SIZES
    if name in SIZES:
        name = f'UniRemovalNet{name}'
    with DefaultScope.overwrite_default_scope('mmagic'):
        found = MODELS.get(name) is not None
    if not found:
        raise ValueError(f'{name!r} is not a config file, a student size ({", ".join(SIZES)}) '
                         "or a network registered in mmagic's MODELS")
    return dict(type=name, _scope_='mmagic')
