"""Degradation transforms: physics, strength order, reproducibility, records, pipelines."""
import numpy as np
import pytest
from skimage import data

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets.transforms import (AddBlur, AddHaze, AddMixedDegradation, AddNoise,
                                               AddRain)

SINGLE = [AddHaze, AddRain, AddBlur, AddNoise]


@pytest.fixture(scope='module')
def photo():
    """A real photo (scikit-image's, no download), BGR uint8, odd size."""
    return data.astronaut()[100:237, 150:303, ::-1].copy()  # 137 x 153


def _psnr(a, b):
    return 10 * np.log10(255.0**2 / np.mean((a.astype(np.float64) - b.astype(np.float64))**2))


def _apply(t, img, path='a.png'):
    return t(dict(img=img.copy(), img_path=path))


@pytest.mark.parametrize('cls', SINGLE, ids=lambda c: c.__name__)
@pytest.mark.parametrize('kind', ['uint8', 'gray', 'float01', 'float255', 'tiny'])
def test_dtype_shape_and_range_round_trip(cls, kind, photo):
    img = {
        'uint8': photo,
        'gray': photo[..., 0],
        'float01': photo.astype(np.float32) / 255,
        'float255': photo.astype(np.float32),
        'tiny': photo[:3, :1],
    }[kind]
    out = _apply(cls(severity=3, seed=1), img)['img']
    assert out.shape == img.shape and out.dtype == img.dtype
    top = 1.0 if kind == 'float01' else 255.0
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= top
    if kind in ('uint8', 'float255', 'float01'):
        scale = 255.0 / top
        assert _psnr(out * scale, img * scale) < 45  # it really degraded the image


@pytest.mark.parametrize('cls', SINGLE, ids=lambda c: c.__name__)
def test_severity_orders_the_damage(cls, photo):
    psnrs = [_psnr(_apply(cls(severity=s, seed=0), photo)['img'], photo) for s in range(1, 6)]
    assert all(a > b for a, b in zip(psnrs, psnrs[1:])), psnrs


@pytest.mark.parametrize('cls', SINGLE, ids=lambda c: c.__name__)
def test_seeded_draws_are_per_sample_and_reproducible(cls, photo):
    t = cls(seed=7)
    a1, a2 = _apply(t, photo, 'a.png'), _apply(t, photo, 'a.png')
    b = _apply(t, photo, 'b.png')
    np.testing.assert_array_equal(a1['img'], a2['img'])
    assert a1['degradations'] == a2['degradations']
    assert a1['degradations'] != b['degradations']


def test_unseeded_draws_follow_numpys_global_seed(photo):
    np.random.seed(3)
    first = _apply(AddNoise(), photo)['img']
    np.random.seed(3)
    np.testing.assert_array_equal(first, _apply(AddNoise(), photo)['img'])


def test_record_reaches_the_results(photo):
    res = _apply(AddHaze(severity=2, seed=0), photo)
    (rec, ) = res['degradations']
    assert rec['type'] == 'haze' and rec['severity'] == 2 and rec['depth'] == 'prior'
    assert AddHaze.SEVERITY[2]['beta'][0] <= rec['beta'] <= AddHaze.SEVERITY[2]['beta'][1]


def test_haze_follows_the_scattering_model():
    clean = np.random.default_rng(0).random((21, 17, 3)).astype(np.float32)
    res = AddHaze(severity=3, seed=0, depth_range=(0.5, 0.5))(dict(img=clean.copy()))
    rec = res['degradations'][0]
    t = np.exp(-rec['beta'] * 0.5)
    expected = np.clip(clean * t + rec['airlight'] * (1 - t), 0, 1)
    np.testing.assert_allclose(res['img'], expected, atol=1e-4)


def test_haze_is_thicker_far_away_with_a_disparity_map(photo):
    h, w = photo.shape[:2]
    disparity = np.ones((h, w), np.float32)
    disparity[:, : w // 2] = 8.0  # left half near
    res = AddHaze(severity=4, seed=0, depth_is_disparity=True)(
        dict(img=photo.copy(), depth=disparity))
    err = np.abs(res['img'].astype(float) - photo).mean(axis=(0, 2))
    assert err[: w // 2].mean() < err[w // 2:].mean()
    assert res['degradations'][0]['depth'] == 'disparity'


def test_non_uniform_haze_varies_over_the_image():
    flat = np.full((64, 64, 3), 0.2, np.float32)
    uniform = AddHaze(severity=3, seed=0, depth_range=(1, 1))(dict(img=flat.copy()))['img']
    patchy = AddHaze(severity=3, seed=0, depth_range=(1, 1), non_uniform=0.6)(
        dict(img=flat.copy()))['img']
    assert uniform.std() < 1e-6 < patchy.std()


def test_blur_keeps_flat_regions_and_mean():
    flat = np.full((40, 40, 3), 100, np.uint8)
    for kind in AddBlur.KINDS:
        out = AddBlur(severity=5, seed=0, kinds=[kind])(dict(img=flat.copy()))['img']
        np.testing.assert_array_equal(out, flat)


def test_gaussian_noise_has_the_drawn_sigma():
    grey = np.full((256, 256, 3), 0.5, np.float32)
    res = AddNoise(severity=3, seed=0, kinds=['gaussian'])(dict(img=grey.copy()))
    sigma = res['degradations'][0]['sigma'] / 255
    assert np.std(res['img'] - grey) == pytest.approx(sigma, rel=0.03)


def test_poisson_gaussian_noise_grows_with_the_signal():
    img = np.zeros((128, 128, 3), np.float32)
    img[:, 64:] = 0.9
    img[:, :64] = 0.1
    out = AddNoise(severity=2, seed=0, kinds=['poisson_gaussian'])(dict(img=img.copy()))['img']
    assert (out[:, 64:] - img[:, 64:]).std() > 1.5 * (out[:, :64] - img[:, :64]).std()


def test_jpeg_is_recorded_when_applied(photo):
    res = _apply(AddNoise(severity=1, seed=0, jpeg_prob=1.0, jpeg_quality_range=(20, 20)), photo)
    assert res['degradations'][0]['jpeg_quality'] == 20


def test_rain_adds_more_streaks_when_heavier(photo):
    light = _apply(AddRain(severity=1, seed=0), photo)['degradations'][0]
    heavy = _apply(AddRain(severity=5, seed=0), photo)['degradations'][0]
    assert heavy['density'] > light['density'] and heavy['veil'] < light['veil']


def test_mixed_applies_several_in_order_and_keeps_the_source(photo):
    t = AddMixedDegradation(
        [dict(type='AddHaze'), dict(type='AddRain'), dict(type='AddBlur'), dict(type='AddNoise')],
        num_range=(2, 3), seed=0, src_key='gt', dst_key='img')
    res = t(dict(gt=photo.copy(), img_path='m.png'))
    types = [d['type'] for d in res['degradations']]
    order = ['haze', 'rain', 'blur', 'noise']
    assert 2 <= len(types) <= 3 and types == sorted(types, key=order.index)
    np.testing.assert_array_equal(res['gt'], photo)
    assert _psnr(res['img'], photo) < 30


@pytest.mark.parametrize('build', [
    lambda: AddHaze(severity=6),
    lambda: AddHaze(beta_range=(2, 1)),
    lambda: AddBlur(kinds=['zoom']),
    lambda: AddNoise(poisson_ratio=2),
    lambda: AddMixedDegradation([dict(type='AddHaze')], num_range=(2, 2)),
])
def test_invalid_arguments_raise(build):
    with pytest.raises(ValueError):
        build()


def test_missing_key_is_a_clear_error():
    with pytest.raises(KeyError, match="AddBlur: no 'gt'"):
        AddBlur(src_key='gt')(dict(img=np.zeros((4, 4, 3), np.uint8)))


def test_usable_in_mmdet_pipelines_with_boxes_intact(photo):
    import torch
    from mmdet.registry import TRANSFORMS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        pipeline = _det_pipeline(TRANSFORMS)
    boxes = np.array([[10, 12, 60, 70]], np.float32)
    out = pipeline(dict(img=photo.copy(), img_id=0, img_shape=photo.shape[:2],
                        ori_shape=photo.shape[:2], gt_bboxes=boxes,
                        gt_bboxes_labels=np.array([0]), gt_ignore_flags=np.array([False])))
    sample = out['data_samples']
    assert [d['type'] for d in sample.metainfo['degradations']] == ['haze', 'noise']
    torch.testing.assert_close(sample.gt_instances.bboxes, torch.from_numpy(boxes))


def _det_pipeline(TRANSFORMS):  # noqa: N803
    from mmcv.transforms import Compose
    return Compose([
        TRANSFORMS.build(dict(type='AddMixedDegradation', seed=0,
                              transforms=[dict(type='AddHaze'), dict(type='AddNoise')])),
        TRANSFORMS.build(dict(type='PackDetInputs',
                              meta_keys=('img_id', 'img_shape', 'ori_shape', 'degradations'))),
    ])


def test_usable_in_mmagic_pipelines(photo):
    from mmagic.registry import TRANSFORMS
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        t = TRANSFORMS.build(dict(type='AddBlur', severity=2, seed=0, src_key='gt',
                                  dst_key='img'))
    res = t(dict(gt=photo.copy(), img_path='x'))
    assert res['img'].shape == photo.shape


def test_abutting_severities_builds_the_one_parameter_tables():
    from uniremoval_mm.datasets.transforms.degradations import abutting_severities
    table = abutting_severities('size', (3, 5, 9, 13, 19, 27))
    assert table == {1: dict(size=(3, 5)), 2: dict(size=(5, 9)), 3: dict(size=(9, 13)),
                     4: dict(size=(13, 19)), 5: dict(size=(19, 27))}
    assert AddNoise.SEVERITY[5] == dict(sigma=(45, 60)) and AddBlur.SEVERITY == table
    for edges in [(1, 2, 3, 4, 5), (1, 2, 3, 3, 4, 5)]:  # too few; not increasing
        with pytest.raises(ValueError, match='six increasing edges'):
            abutting_severities('size', edges)


# --- AddNoise(sigma_choices=...): the all-in-one protocol's sigma drawn from a set -----
def test_sigma_is_one_of_the_choices_and_the_noise_has_that_level():
    clean = np.full((37, 53, 3), 128, np.uint8)  # odd sizes, mid-grey (no clipping)
    t = AddNoise(kinds=('gaussian', ), sigma_choices=(15, 25, 50), src_key='gt', dst_key='img')
    seen = set()
    for i in range(30):
        out = t(dict(gt=clean.copy(), img_path=f'p{i}'))
        sigma = out['degradations'][-1]['sigma']
        seen.add(sigma)
        assert out['img'].shape == clean.shape and out['img'].dtype == np.uint8
        assert (out['gt'] == clean).all()  # the clean image is kept
        measured = (out['img'].astype(np.float32) - clean).std()
        assert abs(measured - sigma) < 0.15 * sigma
    assert seen == {15.0, 25.0, 50.0}


def test_seeded_choice_is_reproducible_per_image():
    img = np.random.default_rng(0).integers(0, 256, (21, 19, 3), np.uint8)
    t = AddNoise(kinds=('gaussian', ), sigma_choices=(15, 50), seed=3)
    a, b = (t(dict(img=img.copy(), img_path='x.png')) for _ in range(2))
    assert (a['img'] == b['img']).all()
    assert a['degradations'][0]['sigma'] == b['degradations'][0]['sigma']


@pytest.mark.parametrize('kwargs', [dict(sigma_choices=()), dict(sigma_choices=(10, 300)),
                                    dict(sigma_choices=(25, ), sigma_range=(5, 10))])
def test_invalid_choices_raise(kwargs):
    with pytest.raises(ValueError):
        AddNoise(**kwargs)


def test_outdoor_fog_thickens_towards_the_horizon_keeps_a_bright_sky_and_is_seeded():
    from uniremoval_mm.datasets.transforms import AddOutdoorFog
    h, w = 61, 47
    img = np.zeros((h, w, 3), np.uint8)
    img[:15] = 240  # bright sky
    img[15:] = np.random.default_rng(0).integers(30, 120, (h - 15, w, 3))
    fog = AddOutdoorFog(severity=4, seed=3, horizon_range=(0.3, 0.3), noise_range=(0, 0),
                        jpeg_quality_range=None, glow_range=(0, 0), non_uniform=0.0)
    out = fog.transform(dict(img=img.copy(), img_path='a.png'))
    again = fog.transform(dict(img=img.copy(), img_path='a.png'))
    np.testing.assert_array_equal(out['img'], again['img'])
    lifted = out['img'].astype(float) - img
    assert lifted[20:25].mean() > lifted[-5:].mean() + 10  # near rows less veiled
    assert out['img'][:10].mean() >= 0.9 * img[:10].mean()  # the sky stays bright
    assert out['degradations'][-1]['depth'] == 'road-scene'
    assert out['img'].shape == img.shape and out['img'].dtype == np.uint8


def test_outdoor_fog_glow_noise_and_jpeg_are_recorded_and_checked():
    from uniremoval_mm.datasets.transforms import AddOutdoorFog
    img = np.full((33, 45, 3), 60, np.uint8)
    img[10:12, 20:22] = 255  # a lamp
    out = AddOutdoorFog(severity=2, seed=0, glow_range=(0.5, 0.5)).transform(
        dict(img=img, img_path='b.png'))
    params = out['degradations'][-1]
    assert params['glow'] == 0.5 and 60 <= params['jpeg_quality'] <= 95
    with pytest.raises(ValueError, match='glow_sigma > 0'):
        AddOutdoorFog(glow_sigma=0)
