"""AddNoise(sigma_choices=...): the all-in-one protocol's sigma drawn from a set."""
import numpy as np
import pytest

from uniremoval_mm.datasets.transforms import AddNoise


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
