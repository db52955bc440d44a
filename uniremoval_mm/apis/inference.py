"""Restore images from Python: build a restorer, run it on a picture.

In the shape of MMDetection's ``init_detector`` / ``inference_detector``::

    from uniremoval_mm.apis import init_restorer, restore_image
    model = init_restorer('configs/uniremoval_stage1.py',
                          'checkpoints/uniremoval-net-s_stage1-cpu.pth')
    restored = restore_image(model, 'foggy.jpg')  # (H, W, 3) uint8 RGB

:class:`Restorer` is the callable behind :func:`restore_image`, for many pictures in a
row (``tools/restore.py`` runs every file and video frame through one): it keeps the
tiling policy, including tiling only pictures above a size. Both run a
:class:`~uniremoval_mm.models.UniRemovalNet` in its fused CPU inference form
(``fused=True``, :meth:`~uniremoval_mm.models.UniRemovalNet.fuse`); ``init_restorer``
itself returns the network as trained (to export, fine-tune or inspect).
"""
from functools import partial
from pathlib import Path
from typing import Callable, Optional, Union

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from ..models.students.fused import fuse_restorer
from ..models.tiling import bordered_forward, check_border, max_overlap, tiled_forward
from ..utils.checkpoint import load_weights
from ..utils.network_configs import network_cfg

__all__ = [
    'AUTO_TILE_SIZE', 'DEFAULT_BORDER', 'RestorationError', 'Restorer', 'init_restorer',
    'restore_image'
]

#: Tile size used for pictures above a :class:`Restorer`'s ``auto_tile`` size.
AUTO_TILE_SIZE = 512
#: Pixels every picture is mirrored outwards by before it is restored, so that its edges
#: are restored like the rest (:func:`~uniremoval_mm.models.tiling.bordered_forward`).
DEFAULT_BORDER = 16


class RestorationError(RuntimeError):
    """The network's output cannot be used (it has NaN or Inf values)."""


def init_restorer(config_or_name: Union[str, Path, Config, dict],
                  checkpoint: Optional[str] = None,
                  device: Union[str, torch.device] = 'cpu',
                  overrides: Optional[dict] = None) -> nn.Module:
    """Build a restoration network and load its weights, as data.

    Args:
        config_or_name (str | Path | Config | dict): A config file whose
            ``model.generator`` (stage-1 / stage-2, mmagic editors) or ``model`` is the
            network, a host config (``'mmagic::...'``), a loaded config, the network's
            own config dict, a student size (``'T'``, ``'S'``, ``'B'``) or a network
            registered in mmagic's ``MODELS`` (``'UniRemovalNetS'``); see
            :func:`~uniremoval_mm.utils.network_configs.network_cfg`.
        checkpoint (str, optional): Weights, a path or an ``http(s)`` URL, loaded with
            ``weights_only=True``; a stage-1 / mmagic checkpoint (``generator.`` keys
            next to teachers') or a plain state dict. Defaults to None (the network's
            own initialisation: a new student is the identity).
        device (str | torch.device): Where the network goes. Defaults to ``'cpu'``.
        overrides (dict, optional): Network arguments replacing the config's.
            Defaults to None.

    Returns:
        nn.Module: The network, in eval mode on ``device``; it maps (N, 3, H, W) RGB in
        [0, 1] to the same.

    Raises:
        FileNotFoundError: The config file does not exist (the message names it).
        ValueError: The config cannot be read, holds no network, or the network cannot
            be built; or the name is unknown.
        CheckpointError: The checkpoint is missing, refused, corrupt, or does not fit
            the network (the message names the file and what is wrong).
    """
    from mmagic.registry import MODELS

    import uniremoval_mm  # noqa: F401  (registers the networks)
    cfg = network_cfg(config_or_name, overrides)
    try:
        net = MODELS.build(cfg)
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f'{_describe(config_or_name)}: cannot build {cfg.get("type")}: '
                         f'{e}') from e
    if checkpoint is not None:
        load_weights(net, str(checkpoint))  # names wrong keys and shapes (CheckpointError)
    return net.eval().to(device)


def _describe(config_or_name) -> str:
    if isinstance(config_or_name, (str, Path)):
        return str(config_or_name)
    return getattr(config_or_name, 'filename', None) or 'the config'


def _device_of(model: nn.Module) -> torch.device:
    param = next(model.parameters(), None)
    return param.device if param is not None else torch.device('cpu')


class Restorer:
    """Runs a restoration network on RGB pictures, whole or tiled, and checks its output.

    Args:
        net (nn.Module): The network: (N, 3, H, W) RGB in [0, 1] to the same, e.g.
            from :func:`init_restorer`. Its ``multiple`` attribute, when it has one,
            is the factor it downsamples by: tiles stay on that grid.
        device (str | torch.device, optional): Where the network runs. Defaults to
            None (where its parameters are).
        tile (int): Restore every picture in tiles of this size (a multiple of the
            network's ``multiple``); 0 = whole pictures. Defaults to 0.
        overlap (int): Overlap of neighbouring tiles in pixels (at most
            :func:`~uniremoval_mm.models.tiling.max_overlap` is used: half a tile, and
            ``tile`` minus the network's ``multiple``). Defaults to 32.
        auto_tile (int): With ``tile`` 0, restore pictures whose longer side exceeds this
            in :data:`AUTO_TILE_SIZE` tiles; 0 = never. Defaults to 0.
        note (Callable[[str], None], optional): Told when a picture is tiled
            automatically. Defaults to None (say nothing).
        fused (bool): Run the network in its fused CPU inference form where it has one
            (:func:`~uniremoval_mm.models.fuse_restorer`: a UniRemovalNet); False runs
            it as it is. Defaults to True.
        border (int): Mirror every picture outwards by this many pixels before
            restoring it and crop them off after (tiled or whole), so that its edges see
            picture-like surroundings instead of the convolutions' zero padding
            (:func:`~uniremoval_mm.models.tiling.bordered_forward`); 0 = none. Defaults to
            :data:`DEFAULT_BORDER`.
    """

    def __init__(self,
                 net: nn.Module,
                 device: Optional[Union[str, torch.device]] = None,
                 tile: int = 0,
                 overlap: int = 32,
                 auto_tile: int = 0,
                 note: Optional[Callable[[str], None]] = None,
                 fused: bool = True,
                 border: int = DEFAULT_BORDER) -> None:
        self.border = check_border(border)
        self.net = fuse_restorer(net) if fused else net
        self.device = _device_of(net) if device is None else device
        self.align = int(getattr(net, 'multiple', 1))
        self.tile = tile
        self.overlap = overlap
        self.auto_tile = auto_tile
        self.note = note or (lambda message: None)

    def tile_for(self, height: int, width: int) -> int:
        """The tile size used for a picture of this size.

        Args:
            height (int): Picture height.
            width (int): Picture width.

        Returns:
            int: The tile size, or 0 (whole).
        """
        if self.tile:
            return self.tile
        if self.auto_tile and max(height, width) > self.auto_tile:
            return AUTO_TILE_SIZE
        return 0

    def __call__(self, rgb: np.ndarray, name: str = 'image') -> np.ndarray:
        """Restore one picture.

        Args:
            rgb (np.ndarray): (H, W, 3) uint8 or uint16 RGB.
            name (str): What the picture is called in notes. Defaults to ``'image'``.

        Returns:
            np.ndarray: The restored picture: same shape and dtype.

        Raises:
            RestorationError: If the network's output is not finite.
        """
        max_value = 65535 if rgb.dtype == np.uint16 else 255
        x = torch.from_numpy(rgb.astype(np.float32) / max_value).permute(2, 0, 1)[None]
        x = x.to(self.device)
        tile = self.tile_for(*rgb.shape[:2])
        run = self.net
        if tile and max(rgb.shape[:2]) > tile:
            if not self.tile:
                self.note(f'{name}: {rgb.shape[1]}x{rgb.shape[0]} > --auto-tile '
                          f'{self.auto_tile}: restoring in {tile}-px tiles')
            run = partial(tiled_forward, self.net, tile=tile,
                          overlap=min(self.overlap, max_overlap(tile, self.align)),
                          align=self.align)
        with torch.no_grad():
            y = bordered_forward(run, x, self.border)
        if not torch.isfinite(y).all():
            raise RestorationError('the network output has NaN/Inf values')
        y = y[0].clamp(0, 1).permute(1, 2, 0).cpu().numpy()
        return np.round(y * max_value).astype(rgb.dtype)


def restore_image(model: nn.Module,
                  img: Union[str, Path, np.ndarray],
                  tile: Optional[int] = None,
                  overlap: int = 32,
                  channel_order: str = 'rgb',
                  fused: bool = True,
                  border: int = DEFAULT_BORDER) -> np.ndarray:
    """Restore one picture: a file, or an array.

    Args:
        model (nn.Module): The network, from :func:`init_restorer`.
        img (str | Path | np.ndarray): An image file (decoded by content; EXIF
            orientation applied, 16-bit PNG/TIFF kept at 16 bits, grey on three
            channels, alpha dropped), or an (H, W, 3) uint8 / uint16 array in
            ``channel_order``.
        tile (int, optional): Restore in tiles of this size, a multiple of the network's
            downsampling factor (``model.multiple``; 16 for the students), to bound the
            memory on large pictures. Tiled and whole results differ slightly (see
            :mod:`uniremoval_mm.models.tiling`). Defaults to None (whole).
        overlap (int): Overlap of neighbouring tiles in pixels. Defaults to 32.
        channel_order (str): ``'rgb'`` or ``'bgr'`` (OpenCV's): the order of an array
            input and of the output. Defaults to ``'rgb'``.
        fused (bool): Run the network in its fused CPU inference form where it has one
            (see :class:`Restorer`). Defaults to True.
        border (int): Mirror the picture outwards by this many pixels before restoring
            it (see :class:`Restorer`); 0 = none. Defaults to :data:`DEFAULT_BORDER`.

    Returns:
        np.ndarray: (H, W, 3), in ``channel_order``, of the input's dtype (uint8 or
        uint16).

    Raises:
        ValueError: An argument is invalid (the message says which and why).
        ImageFileError: The file cannot be read or decoded (the message names it).
        RestorationError: The network's output is not finite.
    """
    from ..datasets.image_files import ImageFileError, read_image
    if channel_order not in ('rgb', 'bgr'):
        raise ValueError(f"channel_order must be 'rgb' or 'bgr', got {channel_order!r}")
    if isinstance(img, (str, Path)):
        try:
            rgb = read_image(Path(img)).rgb
        except ImageFileError as e:
            raise ImageFileError(f'{img}: {e}') from e
    elif isinstance(img, np.ndarray):
        if img.ndim != 3 or img.shape[2] != 3 or min(img.shape[:2]) < 1:
            raise ValueError(f'img must be an (H, W, 3) array, got shape {img.shape}')
        if img.dtype not in (np.uint8, np.uint16):
            raise ValueError(f'img must be uint8 or uint16, got {img.dtype}')
        rgb = img[..., ::-1] if channel_order == 'bgr' else img
    else:
        raise TypeError(f'img must be a path or an (H, W, 3) array, got {type(img).__name__}')
    restorer = Restorer(model, tile=tile or 0, overlap=overlap, fused=fused, border=border)
    if tile is not None:
        if isinstance(tile, bool) or not isinstance(tile, int) or tile < 1:
            raise ValueError(f'tile must be an int >= 1 or None, got {tile!r}')
        if tile % restorer.align:
            raise ValueError(f'tile {tile} must be a multiple of {restorer.align} (the network '
                             'downsamples by it; tiles must share its grid)')
        if isinstance(overlap, bool) or not isinstance(overlap, int) or overlap < 0:
            raise ValueError(f'overlap must be an int >= 0, got {overlap!r}')
    out = restorer(np.ascontiguousarray(rgb))
    return np.ascontiguousarray(out[..., ::-1]) if channel_order == 'bgr' else out
