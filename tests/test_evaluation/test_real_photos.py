"""Measures of what a restorer does to real photos: tone, colour, haze left, flags."""
import numpy as np
import pytest

from uniremoval_mm.evaluation import real_photos as rp


def _scene(seed: int = 0, h: int = 61, w: int = 83) -> np.ndarray:
    """A textured grey-ish scene in [0, 1] with a fog veil over it."""
    rng = np.random.default_rng(seed)
    base = rng.random((h, w, 1)).astype(np.float32) * 0.6 + 0.1
    scene = np.repeat(base, 3, 2) * np.array([0.95, 1.0, 1.02], np.float32)
    return np.clip(scene * 0.5 + 0.45, 0, 1)  # veiled: low contrast, bright


def _record(inp, out):
    return rp.compare(rp.photo_stats(inp), rp.photo_stats(out))


def test_a_darkened_image_is_flagged():
    x = _scene()
    flags = rp.photo_flags(_record(x, x * 0.5))
    assert flags['darkened'] and not flags['cast']
    assert rp.photo_flags(_record(x, x * 0.15))['crushed']


def test_a_contrast_stretch_that_keeps_the_mean_is_not_flagged():
    x = _scene()
    mean = x.mean()
    stretched = np.clip(mean + 1.8 * (x - mean), 0, 1)
    record = _record(x, stretched)
    assert not any(rp.photo_flags(record).values())
    assert record['contrast_ratio'] > 1.5
    assert record['haze_ratio'] < 0.9  # less haze left by the airlight-normalised measure


def test_a_colour_cast_image_is_flagged():
    x = _scene()
    cast = np.clip(x * np.array([1.15, 1.0, 0.8], np.float32), 0, 1)
    flags = rp.photo_flags(_record(x, cast))
    assert flags['cast'] and not flags['darkened']


def test_darkening_alone_does_not_lower_the_haze_measure():
    x = _scene(1)
    assert rp.haze_density(x * 0.6) == pytest.approx(rp.haze_density(x), abs=0.02)
    assert rp.local_contrast(x * 0.6) < rp.local_contrast(x)  # contrast does follow it


def test_summary_and_bar():
    x = [_scene(s) for s in range(5)]
    good = [np.clip(i.mean() + 1.6 * (i - i.mean()), 0, 1) for i in x]
    dark = [i * 0.4 for i in x]
    row = rp.summarise([_record(a, b) for a, b in zip(x, good)])
    assert row['photos'] == 5 and row['dark_share'] == 0
    assert row['luma_ratio_p10'] <= row['luma_ratio_median'] <= row['luma_ratio_p90']
    assert all(line['passed'] for line in rp.check_bar(row))
    bad = rp.summarise([_record(a, b) for a, b in zip(x, dark)])
    failed = {line['key'] for line in rp.check_bar(bad) if not line['passed']}
    assert {'luma_ratio_median', 'dark_share'} <= failed
    with pytest.raises(ValueError, match='no photos'):
        rp.summarise([])


def test_uint8_and_float_agree_and_shapes_are_checked():
    x = _scene()
    u8 = (x * 255 + 0.5).astype(np.uint8)
    assert rp.photo_stats(u8)['luma'] == pytest.approx(rp.photo_stats(x)['luma'], abs=0.003)
    with pytest.raises(ValueError, match=r'expected an \(H, W, 3\) RGB image'):
        rp.photo_stats(x[..., 0])


def test_contact_sheets_have_one_row_per_photo():
    x = [(_scene(s) * 255).astype(np.uint8) for s in range(3)]
    pages = rp.contact_sheets(['a', 'b', 'c'], x, dict(out=x), width=40, rows_per_sheet=2)
    assert len(pages) == 2 and pages[0].shape[1] == 2 * 42
    with pytest.raises(ValueError, match='out has 2 pictures'):
        rp.contact_sheets(['a', 'b', 'c'], x, dict(out=x[:2]))
