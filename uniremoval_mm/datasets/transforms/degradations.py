"""Synthetic degradations: haze, rain, blur, noise, and mixtures of them.

Each transform is an mmcv ``BaseTransform`` registered in mmengine's ``TRANSFORMS`` (so
mmdet and mmagic pipelines both find it). It reads an image (uint8 or float, any channel
order: nothing here depends on it), degrades it in float [0, 1] and writes it back in the
input's dtype. It never moves pixels, so boxes and masks stay valid.

Strength: ``severity`` 1-5 picks a row of the transform's ``SEVERITY`` table of parameter
ranges; ``None`` draws a severity per call. Any range can be given explicitly instead.

Randomness: with ``seed=None`` the parameters come from numpy's global generator (seeded
by mmengine's ``randomness`` config, per worker): a new draw every call, for training.
With an int ``seed`` they come from a generator seeded by ``(seed, the sample's
img_path or sample_idx)``: the same image always gets the same degradation, for fixed
validation sets and reproducible converted datasets.

Record: each call appends ``dict(type=..., severity=..., **params)`` to
``results['degradations']``; add ``'degradations'`` to the packer's ``meta_keys`` to see
it in the data sample's metainfo.
"""
import hashlib
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.registry import TRANSFORMS

Range = Tuple[float, float]

__all__ = ['AddHaze', 'AddOutdoorFog', 'AddRain', 'AddBlur', 'AddNoise', 'AddMixedDegradation',
           'AddTypedDegradation', 'BaseDegradation', 'severity_grid']


def _check_range(name: str, value: Range, low: float = -np.inf, high: float = np.inf) -> Range:
    lo, hi = (float(v) for v in value)
    if not low <= lo <= hi <= high:
        raise ValueError(f'{name} must be an increasing pair within [{low}, {high}], '
                         f'got {value}')
    return lo, hi


def _optional_range(name: str, value: Optional[Range], low: float = -np.inf,
                    high: float = np.inf) -> Optional[Range]:
    """None (use the severity's range), or ``value`` checked as :func:`_check_range` does."""
    return None if value is None else _check_range(name, value, low, high)


def abutting_severities(param: str, edges: Sequence[float]) -> Dict[int, Dict[str, Range]]:
    """A ``SEVERITY`` table of one parameter whose five ranges abut: severity ``s`` draws
    it from ``(edges[s - 1], edges[s])``.

    Args:
        param (str): The parameter's name in the table.
        edges (Sequence[float]): Six increasing bounds, lightest first.

    Returns:
        dict[int, dict[str, tuple[float, float]]]: ``{1: {param: (edges[0], edges[1])},
        ..., 5: {param: (edges[4], edges[5])}}``.

    Raises:
        ValueError: ``edges`` is not six increasing numbers.
    """
    if len(edges) != 6 or any(lo >= hi for lo, hi in zip(edges, edges[1:])):
        raise ValueError(f'{param}: need six increasing edges, got {edges}')
    return {s: {param: (edges[s - 1], edges[s])} for s in range(1, 6)}


class BaseDegradation(BaseTransform):
    """What every degradation shares: keys, severity, seeding, dtype round-trip, record.

    Args:
        severity (int, optional): 1 (light) to 5 (heavy); None draws one per call.
            Defaults to None.
        seed (int, optional): None: draw from numpy's global generator. An int: seed a
            generator per sample from ``(seed, img_path or sample_idx)``. Defaults to
            None.
        src_key (str): Key of the clean image. Defaults to ``'img'``.
        dst_key (str, optional): Key the degraded image is written to; None writes it
            back to ``src_key`` (detection pipelines). For paired restoration data read
            the clean image as ``'gt'`` and write ``'img'``. Defaults to None.
    """

    #: Degradation name recorded in ``results['degradations']``.
    NAME = 'base'
    #: Parameter ranges per severity 1-5; filled by subclasses.
    SEVERITY: Dict[int, Dict[str, Range]] = {}

    def __init__(self,
                 severity: Optional[int] = None,
                 seed: Optional[int] = None,
                 src_key: str = 'img',
                 dst_key: Optional[str] = None) -> None:
        if severity is not None and severity not in range(1, 6):
            raise ValueError(f'severity must be 1-5 or None, got {severity}')
        self.severity = severity
        self.seed = seed
        self.src_key = src_key
        self.dst_key = dst_key or src_key

    #: Variants a subclass chooses from (``kinds=``), if it has any.
    KINDS: Tuple[str, ...] = ()

    # -- helpers ------------------------------------------------------------------------
    def _check_kinds(self, kinds: Sequence[str]) -> Tuple[str, ...]:
        if not kinds or set(kinds) - set(self.KINDS):
            raise ValueError(f'kinds must be a non-empty subset of {self.KINDS}, got {kinds}')
        return tuple(kinds)

    def _rng(self, results: dict) -> np.random.Generator:
        return _sample_rng(self.seed, self.NAME, results)

    def _ranges(self, rng: np.random.Generator, **explicit) -> Tuple[int, Dict[str, Range]]:
        severity = self.severity if self.severity is not None else int(rng.integers(1, 6))
        ranges = dict(self.SEVERITY[severity])
        ranges.update({k: v for k, v in explicit.items() if v is not None})
        return severity, ranges

    @staticmethod
    def _uniform(rng: np.random.Generator, value: Range) -> float:
        return float(rng.uniform(*value)) if value[1] > value[0] else float(value[0])

    def degrade(self, img: np.ndarray, rng: np.random.Generator,
                results: dict) -> Tuple[np.ndarray, dict]:
        """Degrade a float32 HxWxC image in [0, 1]; return it and the drawn parameters."""
        raise NotImplementedError

    def transform(self, results: dict) -> dict:
        """Degrade ``results[src_key]`` into ``results[dst_key]`` and record how.

        Args:
            results (dict): The pipeline's results.

        Returns:
            dict: The same dict, updated.
        """
        if self.src_key not in results:
            raise KeyError(f'{type(self).__name__}: no {self.src_key!r} in the results '
                           f'(keys: {sorted(results)})')
        src = results[self.src_key]
        img, scale = _to_float(src)
        rng = self._rng(results)
        out, params = self.degrade(img, rng, results)
        results[self.dst_key] = _from_float(out, src, scale)
        _copy_image_meta(results, self.src_key, self.dst_key)
        results.setdefault('degradations', []).append(dict(type=self.NAME, **params))
        return results


def _copy_image_meta(results: dict, src: str, dst: str) -> None:
    """Give ``dst`` the metadata mmagic's loader recorded for ``src``.

    mmagic's ``DataPreprocessor`` reads ``{key}_channel_order`` and ``{key}_color_type``
    to know an image's channel order; without them an RGB ``img`` made from an RGB ``gt``
    would be taken for BGR and swapped.
    """
    if src == dst:
        return
    for pattern in ('{}_channel_order', '{}_color_type', 'ori_{}_shape'):
        if pattern.format(src) in results:
            results[pattern.format(dst)] = results[pattern.format(src)]


def _sample_rng(seed: Optional[int], name: str, results: dict) -> np.random.Generator:
    """numpy's global stream if ``seed`` is None, else one seeded by (seed, name, sample)."""
    if seed is None:
        return np.random.default_rng(np.random.randint(0, 2**31))
    ident = str(results.get('img_path', results.get('sample_idx', '')))
    digest = hashlib.sha256(f'{seed}|{name}|{ident}'.encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], 'little'))


def _to_float(img: np.ndarray) -> Tuple[np.ndarray, float]:
    """HxWxC float32 in [0, 1], and the scale of the input (255 for uint8 or 0-255 floats)."""
    if img.dtype == np.uint8 or (img.size and float(img.max()) > 1.0 + 1e-6):
        scale = 255.0
    else:
        scale = 1.0
    out = img.astype(np.float32) / scale
    return (out[..., None] if out.ndim == 2 else out), scale


def _from_float(img: np.ndarray, like: np.ndarray, scale: float) -> np.ndarray:
    """Back to ``like``'s dtype, scale and shape."""
    img = np.clip(img, 0.0, 1.0) * scale
    if like.ndim == 2:
        img = img[..., 0]
    if like.dtype == np.uint8:
        return (img + 0.5).astype(np.uint8)
    return img.astype(like.dtype)


def _luminance(img: np.ndarray) -> np.ndarray:
    return img.mean(axis=2)


def _smooth_field(rng: np.random.Generator, h: int, w: int, cells: int = 4) -> np.ndarray:
    """A smooth random field in [0, 1]: coarse uniform noise upsampled bicubically."""
    coarse = rng.random((cells, cells)).astype(np.float32)
    field = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    field -= field.min()
    return field / max(float(field.max()), 1e-6)


# ---------------------------------------------------------------------------------------
@TRANSFORMS.register_module()
class AddHaze(BaseDegradation):
    """Haze by the atmospheric scattering model ``I = J·t + A·(1 - t)``, ``t = exp(-β·d)``.

    Depth ``d`` (normalised to [0, 1], far = 1) comes from ``results[depth_key]`` when
    present (a depth map, or a disparity map with ``depth_is_disparity``), otherwise
    from a prior: the vertical position (top is far) blended with the smoothed
    luminance (bright sky is far). Non-uniform haze scales β by a smooth random field.

    Args:
        beta_range (tuple[float, float], optional): Scattering coefficient β per unit of
            normalised depth. Defaults to None (the severity's).
        airlight_range (tuple[float, float], optional): Airlight A (grey level).
            Defaults to None (the severity's).
        depth_range (tuple[float, float]): Normalised depth is mapped to this range
            before use, so the nearest pixels are not haze-free. Defaults to (0.2, 1.0).
        prior_weight (float): Weight of the vertical prior against luminance, when no
            depth is given. Defaults to 0.7.
        non_uniform (float): Strength of the random β field: 0 is uniform haze, 0.5
            varies β by ±50%. Defaults to 0.0.
        depth_key (str): Results key of a depth or disparity map. Defaults to
            ``'depth'``.
        depth_is_disparity (bool): The map is disparity (near = large). Defaults to
            False.
        **kwargs: ``severity``, ``seed``, ``src_key``, ``dst_key`` of
            :class:`BaseDegradation`.
    """

    NAME = 'haze'
    SEVERITY = {
        1: dict(beta=(0.3, 0.6), airlight=(0.70, 0.85)),
        2: dict(beta=(0.6, 1.0), airlight=(0.75, 0.90)),
        3: dict(beta=(1.0, 1.5), airlight=(0.80, 0.95)),
        4: dict(beta=(1.5, 2.2), airlight=(0.80, 0.95)),
        5: dict(beta=(2.2, 3.0), airlight=(0.85, 1.00)),
    }

    def __init__(self,
                 beta_range: Optional[Range] = None,
                 airlight_range: Optional[Range] = None,
                 depth_range: Range = (0.2, 1.0),
                 prior_weight: float = 0.7,
                 non_uniform: float = 0.0,
                 depth_key: str = 'depth',
                 depth_is_disparity: bool = False,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.beta_range = _optional_range('beta_range', beta_range, 0)
        self.airlight_range = _optional_range('airlight_range', airlight_range, 0, 1)
        self.depth_range = _check_range('depth_range', depth_range, 0)
        if not 0 <= prior_weight <= 1 or not 0 <= non_uniform < 1:
            raise ValueError('need 0 <= prior_weight <= 1 and 0 <= non_uniform < 1')
        self.prior_weight = prior_weight
        self.non_uniform = non_uniform
        self.depth_key = depth_key
        self.depth_is_disparity = depth_is_disparity

    def depth(self, img: np.ndarray, results: dict) -> Tuple[np.ndarray, str]:
        """Normalised depth in [0, 1] (far = 1), and where it came from."""
        h, w = img.shape[:2]
        given = results.get(self.depth_key)
        if given is not None:
            d = np.asarray(given, np.float32)
            if d.shape[:2] != (h, w):
                d = cv2.resize(d, (w, h), interpolation=cv2.INTER_LINEAR)
            if self.depth_is_disparity:
                d = 1.0 / np.maximum(d, np.percentile(d, 1) + 1e-6)
            source = 'disparity' if self.depth_is_disparity else 'depth'
        else:
            vertical = np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None].repeat(w, 1)
            k = max(3, (min(h, w) // 8) | 1)
            lum = cv2.GaussianBlur(_luminance(img), (k, k), 0)
            d = self.prior_weight * vertical + (1 - self.prior_weight) * lum
            source = 'prior'
        d = d - d.min()
        return d / max(float(d.max()), 1e-6), source

    def degrade(self, img, rng, results):
        severity, r = self._ranges(rng, beta=self.beta_range, airlight=self.airlight_range)
        beta = self._uniform(rng, r['beta'])
        airlight = self._uniform(rng, r['airlight'])
        d, source = self.depth(img, results)
        lo, hi = self.depth_range
        d = lo + (hi - lo) * d
        beta_map = np.full(d.shape, beta, np.float32)
        if self.non_uniform > 0:
            field = _smooth_field(rng, *d.shape)
            beta_map *= 1 + self.non_uniform * (2 * field - 1)
        t = np.exp(-beta_map * d)[..., None]
        out = img * t + airlight * (1 - t)
        return out, dict(severity=severity, beta=round(beta, 4), airlight=round(airlight, 4),
                         depth=source, non_uniform=self.non_uniform,
                         mean_transmission=round(float(t.mean()), 4))


def _small_blobs(mask: np.ndarray, max_share: float) -> np.ndarray:
    """The connected regions of a boolean mask that cover at most ``max_share`` of it,
    as float32 (light sources rather than bright walls or skies)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), 8)
    keep = np.zeros(n, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] <= max_share * mask.size
    return keep[labels].astype(np.float32)


@TRANSFORMS.register_module()
class AddOutdoorFog(AddHaze):
    """Fog as it looks outdoors: a veil that grows with distance, skies that stay bright,
    tinted airlight, glowing lights, and a camera's noise and JPEG.

    Still ``I = J·t + A·(1 - t)``, ``t = exp(-β·d)`` (:class:`AddHaze`), with:

    - **depth of a road scene** when no depth map is given: a horizon row ``h`` drawn
      from ``horizon_range`` (share of the height from the top); below it the ground
      plane, ``d = h' / (y - h + h')`` (1 at the horizon, falling towards the bottom,
      ``h' = 0.1·H``); above it far, ``d = prior_weight + (1 - prior_weight)·lum``
      with ``lum`` the smoothed, normalised luminance, so dark content up there (trees,
      buildings) is nearer than bright sky;
    - **airlight of the scene**: grey and dimmer than the stage-1 haze's (the severity
      table below, matched to DAWN's calibration pool by
      ``tools/analysis_tools/fog_resemblance.py``), and never above the clean picture's
      99th-percentile luma (at least 0.6): a bright sky is at least as bright as the fog
      over it, so a network never learns to pull a bright, flat region down as if it
      were veil; each channel tinted by ``N(0, airlight_tint)`` plus a mean
      ``airlight_blue`` shift of blue up and red down (real fog is slightly cool);
    - **glow**: small blobs brighter than 0.9 (lamps, headlights: connected regions of
      at most 0.5 % of the picture, so a white wall does not glow) scatter: their mask,
      blurred by a Gaussian of ``glow_sigma`` × the longer side and normalised, is added
      with a strength drawn from ``glow_range`` times the local haze ``1 - t``;
    - **the camera**: Gaussian noise of σ drawn from ``noise_range``, then JPEG at a
      quality drawn from ``jpeg_quality_range`` (None: no JPEG).

    Args:
        horizon_range (tuple[float, float]): Horizon row as a share of the height.
            Defaults to (0.25, 0.6).
        airlight_tint (float): Standard deviation of the per-channel airlight tint.
            Defaults to 0.02.
        airlight_blue (float): Mean shift of blue up and red down. Defaults to 0.02.
        glow_range (tuple[float, float]): Glow strength. Defaults to (0.0, 0.6).
        glow_sigma (float): Glow radius as a share of the longer side. Defaults to 0.04.
        noise_range (tuple[float, float]): Sensor noise σ in [0, 1] units. Defaults to
            (0.0, 0.012).
        jpeg_quality_range (tuple[int, int], optional): JPEG quality. Defaults to
            (60, 95).
        **kwargs: Arguments of :class:`AddHaze` (``beta_range``, ``airlight_range``,
            ``depth_range`` (default here (0.05, 1.0)), ``prior_weight``,
            ``non_uniform`` (default here 0.3), ``depth_key``, ``severity``, ``seed``,
            keys).
    """

    NAME = 'haze'
    SEVERITY = {
        1: dict(beta=(0.6, 1.0), airlight=(0.55, 0.80)),
        2: dict(beta=(1.0, 1.5), airlight=(0.60, 0.85)),
        3: dict(beta=(1.5, 2.2), airlight=(0.60, 0.90)),
        4: dict(beta=(2.2, 3.0), airlight=(0.65, 0.90)),
        5: dict(beta=(3.0, 4.0), airlight=(0.65, 0.95)),
    }

    def __init__(self,
                 horizon_range: Range = (0.25, 0.6),
                 airlight_tint: float = 0.02,
                 airlight_blue: float = 0.02,
                 glow_range: Range = (0.0, 0.6),
                 glow_sigma: float = 0.04,
                 noise_range: Range = (0.0, 0.012),
                 jpeg_quality_range: Optional[Range] = (60, 95),
                 **kwargs) -> None:
        kwargs.setdefault('depth_range', (0.05, 1.0))
        kwargs.setdefault('non_uniform', 0.3)
        super().__init__(**kwargs)
        self.horizon_range = _check_range('horizon_range', horizon_range, 0, 1)
        if airlight_tint < 0 or glow_sigma <= 0:
            raise ValueError('need airlight_tint >= 0 and glow_sigma > 0')
        self.airlight_tint = airlight_tint
        self.airlight_blue = airlight_blue
        self.glow_range = _check_range('glow_range', glow_range, 0)
        self.glow_sigma = glow_sigma
        self.noise_range = _check_range('noise_range', noise_range, 0, 1)
        self.jpeg_quality_range = _optional_range('jpeg_quality_range', jpeg_quality_range,
                                                  1, 100)

    def scene_depth(self, img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Road-scene depth in [0, 1] (far = 1) from a drawn horizon and the luminance."""
        h, w = img.shape[:2]
        horizon = self._uniform(rng, self.horizon_range) * h
        rows = np.arange(h, dtype=np.float32)[:, None].repeat(w, 1)
        near = 0.1 * h
        ground = near / np.maximum(rows - horizon + near, near)
        k = max(3, (min(h, w) // 8) | 1)
        lum = cv2.GaussianBlur(_luminance(img), (k, k), 0)
        lum = lum / max(float(lum.max()), 1e-6)
        above = self.prior_weight + (1 - self.prior_weight) * lum
        return np.where(rows < horizon, above, ground).astype(np.float32)

    def degrade(self, img, rng, results):
        severity, r = self._ranges(rng, beta=self.beta_range, airlight=self.airlight_range)
        beta = self._uniform(rng, r['beta'])
        lum = _luminance(img)
        airlight = min(self._uniform(rng, r['airlight']),
                       max(float(np.percentile(lum, 99)), 0.6))
        tint = rng.normal(0, self.airlight_tint, 3) + np.array(
            [-self.airlight_blue, 0.0, self.airlight_blue])
        colour = np.clip(airlight * (1 + tint), 0, 1).astype(np.float32)
        if results.get(self.depth_key) is not None:
            d, source = self.depth(img, results)
        else:
            d, source = self.scene_depth(img, rng), 'road-scene'
        lo, hi = self.depth_range
        d = lo + (hi - lo) * d
        beta_map = np.full(d.shape, beta, np.float32)
        if self.non_uniform > 0:
            beta_map *= 1 + self.non_uniform * (2 * _smooth_field(rng, *d.shape) - 1)
        t = np.exp(-beta_map * d)[..., None]
        out = img * t + colour * (1 - t)
        glow = self._uniform(rng, self.glow_range)
        lights = _small_blobs(lum > 0.9, 0.005)
        if glow > 0 and lights.any():
            halo = cv2.GaussianBlur(lights, (0, 0), self.glow_sigma * max(img.shape[:2]))
            halo = halo / max(float(halo.max()), 1e-6)
            out = out + glow * halo[..., None] * (1 - t) * colour
        noise = self._uniform(rng, self.noise_range)
        if noise > 0:
            out = out + rng.normal(0, noise, out.shape).astype(np.float32)
        params = dict(severity=severity, beta=round(beta, 4), airlight=round(airlight, 4),
                      depth=source, glow=round(glow, 3), noise=round(noise, 4),
                      mean_transmission=round(float(t.mean()), 4))
        out = np.clip(out, 0, 1)
        if self.jpeg_quality_range is not None:
            quality = int(round(self._uniform(rng, self.jpeg_quality_range)))
            out = _jpeg(out, quality)
            params['jpeg_quality'] = quality
        return out, params


# ---------------------------------------------------------------------------------------
def _line_kernel(length: int, angle: float, width: int = 1) -> np.ndarray:
    """A normalised straight-line kernel ``length`` px long at ``angle`` degrees."""
    size = max(3, int(length) | 1)
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = np.cos(np.deg2rad(angle)), np.sin(np.deg2rad(angle))
    half = (length - 1) / 2
    p1 = (int(round(c - dx * half)), int(round(c - dy * half)))
    p2 = (int(round(c + dx * half)), int(round(c + dy * half)))
    cv2.line(kernel, p1, p2, 1.0, thickness=max(1, int(width)), lineType=cv2.LINE_AA)
    return kernel / max(float(kernel.sum()), 1e-6)


@TRANSFORMS.register_module()
class AddRain(BaseDegradation):
    """Rain streaks plus the veiling haze that real rain adds.

    Streaks: sparse random drops, smeared by a line kernel (length, angle: the motion
    blur of falling rain), widened, then screened onto the image with an intensity.
    Veil: a light uniform haze ``I·t + A·(1 - t)``.

    Args:
        density_range (tuple[float, float], optional): Fraction of pixels that seed a
            drop. Defaults to None (the severity's).
        length_range (tuple[float, float], optional): Streak length in pixels.
        angle_range (tuple[float, float]): Streak angle in degrees from vertical
            (positive leans right). Defaults to (-20, 20).
        width_range (tuple[float, float]): Streak width in pixels. Defaults to (1, 2).
        intensity_range (tuple[float, float], optional): Streak brightness (0-1).
        veil_range (tuple[float, float], optional): Transmission of the veiling haze
            (1 = none).
        **kwargs: ``severity``, ``seed``, ``src_key``, ``dst_key`` of
            :class:`BaseDegradation`.
    """

    NAME = 'rain'
    SEVERITY = {
        1: dict(density=(0.002, 0.004), length=(8, 15), intensity=(0.25, 0.40),
                veil=(0.95, 1.00)),
        2: dict(density=(0.004, 0.008), length=(12, 20), intensity=(0.35, 0.50),
                veil=(0.90, 0.97)),
        3: dict(density=(0.008, 0.015), length=(15, 28), intensity=(0.45, 0.60),
                veil=(0.85, 0.93)),
        4: dict(density=(0.015, 0.025), length=(20, 35), intensity=(0.55, 0.70),
                veil=(0.78, 0.88)),
        5: dict(density=(0.025, 0.040), length=(25, 45), intensity=(0.65, 0.80),
                veil=(0.70, 0.82)),
    }

    def __init__(self,
                 density_range: Optional[Range] = None,
                 length_range: Optional[Range] = None,
                 angle_range: Range = (-20.0, 20.0),
                 width_range: Range = (1.0, 2.0),
                 intensity_range: Optional[Range] = None,
                 veil_range: Optional[Range] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.density_range = _optional_range('density_range', density_range, 0, 1)
        self.length_range = _optional_range('length_range', length_range, 1)
        self.angle_range = _check_range('angle_range', angle_range, -89, 89)
        self.width_range = _check_range('width_range', width_range, 1)
        self.intensity_range = _optional_range('intensity_range', intensity_range, 0, 1)
        self.veil_range = _optional_range('veil_range', veil_range, 0, 1)

    def degrade(self, img, rng, results):
        severity, r = self._ranges(rng, density=self.density_range, length=self.length_range,
                                   intensity=self.intensity_range, veil=self.veil_range)
        density = self._uniform(rng, r['density'])
        length = self._uniform(rng, r['length'])
        angle = self._uniform(rng, self.angle_range)
        width = self._uniform(rng, self.width_range)
        intensity = self._uniform(rng, r['intensity'])
        veil = self._uniform(rng, r['veil'])
        h, w = img.shape[:2]
        drops = (rng.random((h, w)) < density).astype(np.float32)
        drops *= rng.uniform(0.5, 1.0, (h, w)).astype(np.float32)  # uneven drop sizes
        kernel = _line_kernel(round(length), 90 + angle, round(width))
        streaks = cv2.filter2D(drops, -1, kernel, borderType=cv2.BORDER_REFLECT)
        streaks = np.clip(streaks / max(float(streaks.max()), 1e-6) * intensity, 0, 1)
        streaks = streaks[..., None]
        out = 1 - (1 - img) * (1 - streaks)  # screen blend: streaks only brighten
        airlight = float(np.clip(np.percentile(_luminance(img), 95) + 0.1, 0.6, 1.0))
        out = out * veil + airlight * (1 - veil)
        return out, dict(severity=severity, density=round(density, 5),
                         length=round(length, 2), angle=round(angle, 2), width=round(width, 2),
                         intensity=round(intensity, 3), veil=round(veil, 3))


# ---------------------------------------------------------------------------------------
def _trajectory_kernel(rng: np.random.Generator, size: int, steps: int = 64) -> np.ndarray:
    """A random camera-shake kernel: a smoothed random walk with momentum."""
    pos = np.zeros(2)
    vel = rng.normal(0, 1, 2)
    points = []
    for _ in range(steps):
        vel = 0.8 * vel + rng.normal(0, 0.6, 2)
        pos = pos + vel
        points.append(pos.copy())
    points = np.array(points)
    points -= points.mean(0)
    scale = (size - 1) / 2 / max(np.abs(points).max(), 1e-6)
    points = points * scale + (size - 1) / 2
    kernel = np.zeros((size, size), np.float32)
    for x, y in points:  # bilinear splat of every point
        x0, y0 = int(np.floor(x)), int(np.floor(y))
        fx, fy = x - x0, y - y0
        for dx, dy, wgt in ((0, 0, (1 - fx) * (1 - fy)), (1, 0, fx * (1 - fy)),
                            (0, 1, (1 - fx) * fy), (1, 1, fx * fy)):
            if 0 <= x0 + dx < size and 0 <= y0 + dy < size:
                kernel[y0 + dy, x0 + dx] += wgt
    return kernel / max(float(kernel.sum()), 1e-6)


def _disk_kernel(radius: float) -> np.ndarray:
    size = 2 * int(np.ceil(radius)) + 1
    c = size // 2
    yy, xx = np.mgrid[0:size, 0:size]
    kernel = ((xx - c)**2 + (yy - c)**2 <= radius**2 + 1e-6).astype(np.float32)
    kernel = cv2.GaussianBlur(kernel, (3, 3), 0.5)  # anti-aliased rim
    return kernel / kernel.sum()


@TRANSFORMS.register_module()
class AddBlur(BaseDegradation):
    """Motion blur (random trajectory or straight line) or defocus blur (disk).

    Args:
        kinds (Sequence[str]): Kernels to choose from, uniformly: ``'trajectory'``
            (camera shake), ``'linear'`` (object/camera motion) and ``'defocus'``.
            Defaults to all three.
        size_range (tuple[float, float], optional): Kernel extent in pixels (motion
            length, or defocus diameter). Defaults to None (the severity's).
        **kwargs: ``severity``, ``seed``, ``src_key``, ``dst_key`` of
            :class:`BaseDegradation`.
    """

    NAME = 'blur'
    KINDS = ('trajectory', 'linear', 'defocus')
    SEVERITY = abutting_severities('size', (3, 5, 9, 13, 19, 27))

    def __init__(self,
                 kinds: Sequence[str] = KINDS,
                 size_range: Optional[Range] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.kinds = self._check_kinds(kinds)
        self.size_range = _optional_range('size_range', size_range, 1)

    def kernel(self, rng: np.random.Generator, kind: str, size: float) -> Tuple[np.ndarray, dict]:
        """The blur kernel of ``kind`` and ``size``, and its drawn parameters."""
        if kind == 'defocus':
            return _disk_kernel(size / 2), dict(radius=round(size / 2, 2))
        if kind == 'linear':
            angle = float(rng.uniform(0, 180))
            return _line_kernel(round(size), angle), dict(angle=round(angle, 2))
        return _trajectory_kernel(rng, max(3, int(round(size)) | 1)), {}

    def degrade(self, img, rng, results):
        severity, r = self._ranges(rng, size=self.size_range)
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        size = self._uniform(rng, r['size'])
        kernel, extra = self.kernel(rng, kind, size)
        out = cv2.filter2D(img, -1, kernel, borderType=cv2.BORDER_REFLECT)
        if out.ndim == 2:
            out = out[..., None]
        return out, dict(severity=severity, kind=kind, size=round(size, 2), **extra)


# ---------------------------------------------------------------------------------------
@TRANSFORMS.register_module()
class AddNoise(BaseDegradation):
    """Gaussian or Poisson-Gaussian (signal-dependent) noise, optionally then JPEG.

    Poisson-Gaussian: ``y = x + n``, ``n ~ N(0, a·x + b²)``, the heteroscedastic model of
    sensor noise (shot noise ``a·x`` grows with the signal, read noise ``b²`` does not).
    It is parameterised so that σ stays the noise level at mid-grey (x = 0.5):
    ``a = 2·r·σ²`` and ``b² = (1 - r)·σ²`` with ``r = poisson_ratio``, the share of the
    mid-grey variance that is shot noise.

    Args:
        kinds (Sequence[str]): Noise models to choose from: ``'gaussian'``,
            ``'poisson_gaussian'``. Defaults to both.
        sigma_range (tuple[float, float], optional): Noise level σ in 0-255 units.
            Defaults to None (the severity's).
        sigma_choices (Sequence[float], optional): Noise levels σ (0-255 units) to draw
            one of, uniformly, per call: the all-in-one benchmarks' protocol (AirNet,
            PromptIR: σ ∈ {15, 25, 50} on BSD400 + WED). Replaces ``sigma_range`` and
            the severity's range; cannot be given with ``sigma_range``. Defaults to
            None.
        poisson_ratio (float): Share of the mid-grey variance that is shot noise, in
            [0, 1], for ``'poisson_gaussian'``. Defaults to 0.8.
        channel_correlation (float): 0 draws noise per channel; 1 uses one noise field
            for all channels (luminance noise). Defaults to 0.0.
        jpeg_prob (float): Probability of a JPEG round trip after the noise.
            Defaults to 0.0.
        jpeg_quality_range (tuple[float, float]): JPEG quality. Defaults to (30, 90).
        **kwargs: ``severity``, ``seed``, ``src_key``, ``dst_key`` of
            :class:`BaseDegradation`.
    """

    NAME = 'noise'
    KINDS = ('gaussian', 'poisson_gaussian')
    SEVERITY = abutting_severities('sigma', (5, 10, 20, 30, 45, 60))

    def __init__(self,
                 kinds: Sequence[str] = KINDS,
                 sigma_range: Optional[Range] = None,
                 poisson_ratio: float = 0.8,
                 channel_correlation: float = 0.0,
                 jpeg_prob: float = 0.0,
                 jpeg_quality_range: Range = (30, 90),
                 sigma_choices: Optional[Sequence[float]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.kinds = self._check_kinds(kinds)
        if not (0 <= channel_correlation <= 1 and 0 <= jpeg_prob <= 1
                and 0 <= poisson_ratio <= 1):
            raise ValueError('need channel_correlation, jpeg_prob and poisson_ratio in [0, 1]')
        self.sigma_range = _optional_range('sigma_range', sigma_range, 0, 255)
        if sigma_choices is not None:
            if sigma_range is not None:
                raise ValueError('give sigma_range or sigma_choices, not both')
            sigma_choices = tuple(float(v) for v in sigma_choices)
            if not sigma_choices or not all(0 <= v <= 255 for v in sigma_choices):
                raise ValueError('sigma_choices must be a non-empty sequence of noise levels '
                                 f'in [0, 255], got {sigma_choices}')
        self.sigma_choices = sigma_choices
        self.poisson_ratio = poisson_ratio
        self.channel_correlation = channel_correlation
        self.jpeg_prob = jpeg_prob
        self.jpeg_quality_range = _check_range('jpeg_quality_range', jpeg_quality_range, 1, 100)

    def degrade(self, img, rng, results):
        severity, r = self._ranges(rng, sigma=self.sigma_range)
        kind = self.kinds[int(rng.integers(len(self.kinds)))]
        if self.sigma_choices is not None:
            sigma = self.sigma_choices[int(rng.integers(len(self.sigma_choices)))] / 255.0
        else:
            sigma = self._uniform(rng, r['sigma']) / 255.0
        h, w, c = img.shape
        own = rng.standard_normal((h, w, c)).astype(np.float32)
        shared = rng.standard_normal((h, w, 1)).astype(np.float32)
        rho = self.channel_correlation
        unit = np.sqrt(1 - rho**2) * own + rho * shared
        if kind == 'gaussian':
            std = sigma
        else:
            r = self.poisson_ratio
            std = sigma * np.sqrt(2 * r * np.clip(img, 0, 1) + (1 - r))
        out = img + unit * std
        params = dict(severity=severity, kind=kind, sigma=round(sigma * 255, 3))
        if self.jpeg_prob > 0 and rng.random() < self.jpeg_prob:
            quality = int(round(self._uniform(rng, self.jpeg_quality_range)))
            out = _jpeg(np.clip(out, 0, 1), quality)
            params['jpeg_quality'] = quality
        return out, params


def _jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    u8 = (img * 255 + 0.5).astype(np.uint8)
    ok, buf = cv2.imencode('.jpg', u8, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    if not ok:
        raise RuntimeError('JPEG encoding failed')
    dec = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    if dec.ndim == 2:
        dec = dec[..., None]
    return dec.astype(np.float32) / 255.0


# ---------------------------------------------------------------------------------------
@TRANSFORMS.register_module()
class AddMixedDegradation(BaseTransform):
    """Two or more degradations in sequence, in physical order.

    Draws how many (``num_range``) and which of ``transforms``, then applies them in
    the order they are listed (list them as light reaches the camera: haze, rain, blur,
    noise). Each sub-transform records itself in ``results['degradations']``.

    Args:
        transforms (list[dict]): Configs of the degradations to draw from.
        num_range (tuple[int, int]): How many to apply (inclusive). Defaults to (2, 2).
        seed (int, optional): Seeds the choice, as :class:`BaseDegradation` does, and is
            passed to sub-transforms that do not set their own. Defaults to None.
        src_key (str): Key of the clean image. Defaults to ``'img'``.
        dst_key (str, optional): Key of the result; None: ``src_key``. Defaults to None.
    """

    def __init__(self,
                 transforms: List[dict],
                 num_range: Tuple[int, int] = (2, 2),
                 seed: Optional[int] = None,
                 src_key: str = 'img',
                 dst_key: Optional[str] = None) -> None:
        if not 1 <= num_range[0] <= num_range[1] <= len(transforms):
            raise ValueError(f'num_range {num_range} must lie within 1..{len(transforms)} '
                             '(the number of transforms)')
        self.num_range = tuple(int(n) for n in num_range)
        self.seed = seed
        self.src_key = src_key
        self.dst_key = dst_key or src_key
        self.transforms = []
        for cfg in transforms:
            cfg = dict(cfg)
            cfg.setdefault('seed', seed)
            cfg.update(src_key=self.dst_key, dst_key=self.dst_key)
            self.transforms.append(TRANSFORMS.build(cfg))

    def transform(self, results: dict) -> dict:
        """Apply the drawn degradations one after the other.

        Args:
            results (dict): The pipeline's results.

        Returns:
            dict: The same dict, updated.
        """
        rng = _sample_rng(self.seed, 'mixed', results)
        n = int(rng.integers(self.num_range[0], self.num_range[1] + 1))
        picked = sorted(rng.choice(len(self.transforms), size=n, replace=False).tolist())
        results[self.dst_key] = results[self.src_key].copy()
        _copy_image_meta(results, self.src_key, self.dst_key)
        for i in picked:
            results = self.transforms[i](results)
        return results


def severity_grid(img: np.ndarray, seed: int = 0) -> Dict[str, List[np.ndarray]]:
    """Every degradation at every severity, for pictures: ``{name: [sev1..sev5]}``.

    Args:
        img (np.ndarray): A clean uint8 image.
        seed (int): Seed of the draws. Defaults to 0.

    Returns:
        dict[str, list[np.ndarray]]: Degraded copies per degradation name.
    """
    grid = {}
    for cls in (AddHaze, AddRain, AddBlur, AddNoise):
        grid[cls.NAME] = [cls(severity=s, seed=seed)(dict(img=img.copy(), img_path='grid'))['img']
                          for s in range(1, 6)]
    return grid


@TRANSFORMS.register_module()
class AddTypedDegradation(BaseTransform):
    """Apply the degradation named by the sample (``results['degradation_type']``).

    Pairs with :class:`~uniremoval_mm.datasets.SyntheticPairedDataset`, which lists each
    clean photo once per type.

    Args:
        degradations (dict[str, dict], optional): Transform config per type name.
            Defaults to haze / rain / blur / noise with the default settings, and
            ``mixed`` = two of the four.
        type_key (str): Results key holding the type. Defaults to
            ``'degradation_type'``.
        seed (int, optional): Passed to every transform that sets none. Defaults to None.
        src_key (str): Key of the clean image. Defaults to ``'gt'``.
        dst_key (str): Key of the degraded image. Defaults to ``'img'``.
    """

    def __init__(self,
                 degradations: Optional[Dict[str, dict]] = None,
                 type_key: str = 'degradation_type',
                 seed: Optional[int] = None,
                 src_key: str = 'gt',
                 dst_key: str = 'img') -> None:
        singles = dict(haze=dict(type='AddHaze'), rain=dict(type='AddRain'),
                       blur=dict(type='AddBlur'), noise=dict(type='AddNoise'))
        if degradations is None:
            degradations = dict(singles, mixed=dict(type='AddMixedDegradation',
                                                    transforms=list(singles.values())))
        self.type_key = type_key
        self.transforms = {}
        for name, cfg in degradations.items():
            cfg = dict(cfg)
            cfg.setdefault('seed', seed)
            cfg.update(src_key=src_key, dst_key=dst_key)
            self.transforms[name] = TRANSFORMS.build(cfg)

    def transform(self, results: dict) -> dict:
        """Degrade with the transform of the sample's type.

        Args:
            results (dict): The pipeline's results, with ``type_key`` set.

        Returns:
            dict: The same dict, updated.
        """
        kind = results.get(self.type_key)
        if kind not in self.transforms:
            raise KeyError(f'AddTypedDegradation: sample {results.get("img_path", "?")} has '
                           f'{self.type_key}={kind!r}; known: {sorted(self.transforms)}')
        return self.transforms[kind](results)
