"""Loading transforms that decode by content and name the file and the problem."""
import logging
from typing import Optional

import cv2
import mmengine.fileio as fileio
import numpy as np
from mmagic.datasets.transforms import LoadImageFromFile as EditLoadImageFromFile
from mmagic.registry import TRANSFORMS as EDIT_TRANSFORMS
from mmcv.transforms import LoadImageFromFile as CvLoadImageFromFile
from mmdet.registry import TRANSFORMS as DET_TRANSFORMS
from mmengine.logging import print_log

from ..image_files import ImageFileError, decode_image, to_rgb8

ON_ERROR = ('raise', 'skip')


def _decode(filename: str, data: bytes, max_pixels: Optional[int]) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a file's bytes; problems name the file."""
    try:
        return to_rgb8(decode_image(data, max_pixels))
    except ImageFileError as e:
        raise ImageFileError(f'{filename}: {e}') from None


def _get(filename: str, backend_args: Optional[dict], backend=None) -> bytes:
    try:
        return backend.get(filename) if backend is not None else fileio.get(
            filename, backend_args=backend_args)
    except OSError as e:
        raise ImageFileError(f'{filename}: cannot read: {e.strerror or e}') from None


def _check_args(owner: str, color_type: str, on_error: str, max_pixels) -> None:
    if color_type not in ('color', 'grayscale'):
        raise ValueError(f"{owner}.color_type must be 'color' or 'grayscale', got "
                         f'{color_type!r}')
    if on_error not in ON_ERROR:
        raise ValueError(f'{owner}.on_error must be one of {ON_ERROR}, got {on_error!r}')
    if max_pixels is not None and max_pixels < 1:
        raise ValueError(f'{owner}.max_pixels must be >= 1 or None, got {max_pixels}')


class _OnErrorMixin:
    """What both checked loaders do with a bad file, by their ``on_error``.

    ``'raise'`` lets the :class:`ImageFileError` (``path: problem``) through; ``'skip'``
    logs it as one warning line and drops the sample (the transform returns None).
    List the mixin before the host loader; the loading itself is ``_load``.
    """

    on_error: str

    def transform(self, results: dict) -> Optional[dict]:
        """Load the image (see the class), or skip a bad file by ``on_error``.

        Args:
            results (dict): The pipeline's results.

        Returns:
            dict | None: The results with the image, or None for a skipped bad file.

        Raises:
            ImageFileError: ``path: problem``, with ``on_error='raise'``.
        """
        try:
            return self._load(results)
        except ImageFileError as e:
            if self.on_error == 'raise':
                raise
            print_log(f'{type(self).__name__}: skipped {e}', logger='current',
                      level=logging.WARNING)
            return None

    def _load(self, results: dict) -> dict:
        raise NotImplementedError


@EDIT_TRANSFORMS.register_module()
class LoadImageChecked(_OnErrorMixin, EditLoadImageFromFile):
    """mmagic's ``LoadImageFromFile``, decoding by content with one-line errors.

    A drop-in replacement (same keys, same output for ordinary 8-bit files) built on
    :func:`~uniremoval_mm.datasets.image_files.decode_image`: a file is decoded by its
    content whatever its name says; grey, grey + alpha, RGBA, palette, 1-bit, CMYK and
    16-bit files become 3-channel 8-bit (alpha dropped, 16 bits rounded to 8); the EXIF
    orientation is applied. A file that cannot be used (empty, unreadable, not an image,
    truncated, larger than ``max_pixels``) raises :class:`ImageFileError` with one
    line, ``path: problem``; mmagic's loader would silently fill a truncated JPEG with
    grey or fail later on ``None``.

    ``on_error='skip'`` (for training on folders of photos) logs that line as a warning
    instead and drops the sample: mmengine's ``BaseDataset`` then draws another one.
    At test time mmengine refuses dropped samples, so keep ``'raise'`` there.

    Args:
        key (str): Results key; the path is read from ``{key}_path``.
        color_type (str): ``'color'`` or ``'grayscale'``. Defaults to ``'color'``.
        channel_order (str): ``'bgr'`` or ``'rgb'``. Defaults to ``'bgr'``.
        on_error (str): ``'raise'`` or ``'skip'``. Defaults to ``'raise'``.
        max_pixels (int, optional): Refuse, before decoding, images with more pixels.
            Defaults to None (only Pillow's decompression-bomb limit, 179 MP).
        **kwargs: Other arguments of mmagic's ``LoadImageFromFile`` (``to_float32``,
            ``use_cache``, ``backend_args``, ...; ``imdecode_backend`` is ignored).
    """

    def __init__(self,
                 key: str,
                 color_type: str = 'color',
                 channel_order: str = 'bgr',
                 on_error: str = 'raise',
                 max_pixels: Optional[int] = None,
                 **kwargs) -> None:
        _check_args(type(self).__name__, color_type, on_error, max_pixels)
        if channel_order not in ('bgr', 'rgb'):
            raise ValueError(f"{type(self).__name__}.channel_order must be 'bgr' or 'rgb', "
                             f'got {channel_order!r}')
        if (kwargs.get('backend_args') or {}).get('backend') == 'lmdb':
            raise ValueError(f'{type(self).__name__}: lmdb backends are not supported; use '
                             "mmagic's LoadImageFromFile")
        super().__init__(key=key, color_type=color_type, channel_order=channel_order,
                         **kwargs)
        self.on_error = on_error
        self.max_pixels = max_pixels

    def _load(self, results: dict) -> dict:
        """Load ``results[f'{key}_path']`` (one path or a list of frames), as mmagic's
        loader does, through :meth:`_load_image`."""
        return EditLoadImageFromFile.transform(self, results)

    def _load_image(self, filename: str) -> np.ndarray:
        if self.file_backend is None:
            self.file_backend = fileio.get_file_backend(uri=filename,
                                                        backend_args=self.backend_args)
        data = self.cache.get(filename)
        if data is None:
            data = _get(filename, None, self.file_backend)
            if self.use_cache:
                self.cache[filename] = data
        rgb = _decode(filename, data, self.max_pixels)
        if self.color_type == 'grayscale':
            return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        return rgb if self.channel_order == 'rgb' else np.ascontiguousarray(rgb[..., ::-1])


@DET_TRANSFORMS.register_module()
class LoadDetImageChecked(_OnErrorMixin, CvLoadImageFromFile):
    """mmdet's ``LoadImageFromFile`` (mmcv's), decoding by content with one-line errors.

    As :class:`LoadImageChecked`, for detection pipelines (``img_path`` → ``img``, BGR,
    ``img_shape``, ``ori_shape``), plus one check mmcv's loader lacks: where the data
    info carries the size the annotation file gives (``height`` / ``width``, as
    mmdet's ``CocoDataset`` sets them), the decoded image must have it; a mismatch
    (typically an EXIF-rotated photo annotated unrotated) would put every box in the
    wrong place, so it is an error naming both sizes.

    Args:
        to_float32 (bool): Return float32 pixels. Defaults to False.
        color_type (str): ``'color'`` or ``'grayscale'``. Defaults to ``'color'``.
        on_error (str): ``'raise'``, or ``'skip'`` (warn and drop the sample; mmdet's
            dataset then draws another one while training). mmcv's
            ``ignore_empty=True`` means ``'skip'``. Defaults to ``'raise'``.
        max_pixels (int, optional): Refuse, before decoding, images with more pixels.
            Defaults to None (only Pillow's decompression-bomb limit, 179 MP).
        check_size (bool): Compare with the annotation's ``height`` / ``width``.
            Defaults to True.
        backend_args (dict, optional): mmengine file backend arguments. Defaults to
            None.
        **kwargs: Other arguments of mmcv's ``LoadImageFromFile`` (``ignore_empty``;
            ``imdecode_backend`` is ignored).
    """

    def __init__(self,
                 to_float32: bool = False,
                 color_type: str = 'color',
                 on_error: str = 'raise',
                 max_pixels: Optional[int] = None,
                 check_size: bool = True,
                 *,
                 backend_args: Optional[dict] = None,
                 **kwargs) -> None:
        _check_args(type(self).__name__, color_type, on_error, max_pixels)
        super().__init__(to_float32=to_float32, color_type=color_type,
                         backend_args=backend_args, **kwargs)
        self.on_error = 'skip' if self.ignore_empty else on_error
        self.max_pixels = max_pixels
        self.check_size = check_size

    def _load(self, results: dict) -> dict:
        """Load ``results['img_path']`` into ``img``, ``img_shape`` and ``ori_shape``."""
        filename = str(results['img_path'])
        rgb = _decode(filename, _get(filename, self.backend_args), self.max_pixels)
        h, w = rgb.shape[:2]
        want = results.get('height'), results.get('width')
        if self.check_size and None not in want and (h, w) != tuple(want):
            hint = (' (width and height swapped: an EXIF-rotated photo annotated on '
                    'its stored pixels?)' if (w, h) == tuple(want) else '')
            raise ImageFileError(f'{filename}: is {w}x{h}, the annotation file says '
                                 f'{want[1]}x{want[0]}{hint}')
        img = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if self.color_type == 'grayscale' \
            else np.ascontiguousarray(rgb[..., ::-1])
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results
