"""tiled_forward: exact where it must be, close to the untiled student, any size, backward."""
import pytest
import torch
from torch import nn

from uniremoval_mm.models import UniRemovalNetT
from uniremoval_mm.models.tiling import (blend_window, bordered_forward, check_overlap, max_overlap,
                                         tile_starts, tiled_forward)


@pytest.mark.parametrize('size', [(1, 1), (1, 300), (300, 1), (5, 2), (129, 65), (64, 64),
                                  (97, 200)])
@pytest.mark.parametrize('batch_size', [1, 3])
def test_identity_is_exact_at_any_size(size, batch_size):
    x = torch.rand(2, 3, *size)
    out = tiled_forward(lambda t: t, x, tile=64, overlap=16, batch_size=batch_size)
    torch.testing.assert_close(out, x, rtol=0, atol=1e-6)


def test_channels_may_change_and_batches_stay_bounded():
    calls = []

    def fn(t):
        calls.append(t.shape[0])
        return torch.cat([t, t.mean(1, keepdim=True)], 1)

    x = torch.rand(2, 3, 70, 90)
    out = tiled_forward(fn, x, tile=32, overlap=8, batch_size=4)
    assert out.shape == (2, 4, 70, 90)
    torch.testing.assert_close(out[:, :3], x)
    tiles = 2 * len(tile_starts(70, 32, 24)) * len(tile_starts(90, 32, 24))
    assert max(calls) <= 4 and sum(calls) == tiles and len(calls) == -(-tiles // 4)


def test_local_network_is_exact_with_enough_overlap():
    torch.manual_seed(0)
    net = nn.Sequential(*[nn.Conv2d(3, 3, 3, padding=1) for _ in range(5)])  # radius 5
    x = torch.rand(1, 3, 101, 133)
    with torch.no_grad():
        out = tiled_forward(net, x, tile=48, overlap=24)  # drops 6 px at tile edges
        torch.testing.assert_close(out, net(x), rtol=0, atol=1e-5)


@pytest.fixture(scope='module')
def student():
    """UniRemovalNet-T with every weight perturbed: a fresh one is the identity."""
    torch.manual_seed(0)
    net = UniRemovalNetT().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return net


def test_student_tiled_matches_untiled(student):
    """Measured: tile 64, overlap 32, align 8 -> max |diff| 6.2e-4, mean 7.3e-5.

    The perturbed student moves pixels by ~0.09 on average (a strong restoration). Its
    channel attention pools globally, so tiles can never match exactly; the tolerance is
    half an 8-bit grey level (2e-3). Overlap 16 lets tile edges bleed in (max 6.7e-3);
    tiles off the student's 8-px sampling grid (``align=1``) are off by up to 0.43.
    """
    from skimage import data
    x = torch.from_numpy(data.astronaut()[100:257, 150:361]).permute(2, 0, 1)[None] / 255.
    with torch.no_grad():
        ref = student(x)
        out = tiled_forward(student, x, tile=64, overlap=32, batch_size=8, align=8)
    assert (ref - x).abs().mean() > 0.05  # the network really changes the image
    diff = (out - ref).abs()
    assert diff.max() < 2e-3 and diff.mean() < 2e-4, (diff.max(), diff.mean())


def test_student_odd_sizes_and_small_images(student):
    for size in [(1, 1), (3, 1000), (37, 61)]:
        x = torch.rand(1, 3, *size)
        with torch.no_grad():
            out = tiled_forward(student, x, tile=64, overlap=16, align=8)
        assert out.shape == x.shape and torch.isfinite(out).all()
    x = torch.rand(1, 3, 40, 50)  # smaller than a tile: one tile, the untiled result
    with torch.no_grad():
        torch.testing.assert_close(tiled_forward(student, x, 64, 16, align=8), student(x))


def test_backward_through_tiles():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 3, 3, padding=1)
    x = torch.rand(1, 3, 45, 70, requires_grad=True)
    tiled_forward(conv, x, tile=32, overlap=8, batch_size=2).square().mean().backward()
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()
    assert conv.weight.grad.abs().sum() > 0
    assert x.grad is not None and torch.isfinite(x.grad).all()
    # The blend weights sum to 1 at every pixel: d(sum(out))/dx is exactly 1 for identity.
    y = torch.rand(2, 3, 45, 70, requires_grad=True)
    tiled_forward(lambda t: t * 1, y, tile=16, overlap=6).sum().backward()
    torch.testing.assert_close(y.grad, torch.ones_like(y))


def test_tile_starts_cover_the_axis_on_the_grid():
    assert tile_starts(10, 64, 48) == [0]
    starts = tile_starts(1000, 128, 96, align=8)
    assert starts[0] == 0 and starts[-1] == 1000 - 128
    assert all(s % 8 == 0 for s in starts[:-1])
    assert all(b - a <= 96 for a, b in zip(starts, starts[1:]))  # overlap >= 32


def test_blend_windows_of_neighbours_sum_to_one():
    a = blend_window(64, 16, False, True)
    b = blend_window(64, 16, True, False)
    assert (a >= 0).all() and (a[:48] == 1).all() and (a[-4:] == 0).all()
    torch.testing.assert_close(a[48:] + b[:16], torch.ones(16))


@pytest.mark.parametrize('kwargs, match', [
    (dict(tile=32, overlap=32), r'overlap \(32\) must be at most 16 for tile 32: half a tile$'),
    (dict(tile=0, overlap=0), 'tile must be an int >= 1'),
    (dict(tile=32, overlap=-1), 'overlap must be an int >= 0'),
    (dict(tile=32.0, overlap=8), 'tile must be an int'),
    (dict(tile=True, overlap=0), 'tile must be an int'),
    (dict(tile=32, overlap=8, batch_size=0), 'batch_size'),
    (dict(tile=12, overlap=6, align=8),
     r'at most 4 for tile 12: half a tile, and tile - align \(12 - 8\)$'),
])
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiled_forward(lambda t: t, torch.rand(1, 3, 50, 50), **kwargs)


@pytest.mark.parametrize('tile, align, limit', [(32, 1, 16), (33, 1, 16), (64, 8, 32),
                                                (12, 8, 4), (8, 8, 0), (1, 1, 0)])
def test_one_overlap_rule_at_its_boundary(tile, align, limit):
    """Half a tile (the blend's tapers never meet) and tile - align (the grid): limit
    works and gives a finite, exact identity; limit + 1 fails with the rule in words."""
    assert max_overlap(tile, align) == limit
    x = torch.rand(1, 3, 3 * tile + 5, 2 * tile + 3)
    check_overlap(tile, limit, align)
    torch.testing.assert_close(tiled_forward(lambda t: t, x, tile, limit, align=align), x)
    with pytest.raises(ValueError, match=rf'overlap \({limit + 1}\) must be at most {limit} '
                       rf'for tile {tile}: half a tile'):
        tiled_forward(lambda t: t, x, tile, limit + 1, align=align)


def test_at_the_limit_neighbours_weights_still_add_up_to_one():
    """overlap = tile / 2: each pixel in two tiles per axis, and their windows sum to 1
    before normalising (the raised-cosine cross-fade holds exactly)."""
    tile, overlap = 32, 16
    starts = tile_starts(200, tile, tile - overlap)
    total = torch.zeros(200, dtype=torch.float64)
    for s in starts:
        total[s:s + tile] += blend_window(tile, overlap, s > 0, s + tile < 200,
                                          dtype=torch.float64)
    torch.testing.assert_close(total[:starts[-1]], torch.ones(starts[-1], dtype=torch.float64))


def test_apis_tiling_still_exports_the_same_functions():
    from uniremoval_mm.apis import tiled_forward as exported
    from uniremoval_mm.apis import tiling as old_home
    assert old_home.tiled_forward is tiled_forward and exported is tiled_forward
    assert old_home.check_border is not None and old_home.max_overlap is max_overlap


def test_bad_input_or_fn_raise():
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        tiled_forward(lambda t: t, torch.rand(3, 50, 50), 32, 8)
    with pytest.raises(ValueError, match='keep the batch and spatial size'):
        tiled_forward(lambda t: t[..., 1:, :], torch.rand(1, 3, 50, 50), 32, 8)


# ---------------------------------------------------------------------- bordered_forward
def test_border_zero_and_identity_change_nothing():
    x = torch.rand(2, 3, 13, 21)
    conv = nn.Conv2d(3, 3, 3, padding=1)
    with torch.no_grad():
        assert torch.equal(bordered_forward(conv, x, 0), conv(x))
    assert torch.equal(bordered_forward(lambda t: t, x, 5), x)


def test_border_changes_only_what_sees_the_edge():
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 3, 3, padding=1)  # zero padding: the edge pixels see black
    x = torch.rand(1, 3, 11, 17)
    with torch.no_grad():
        plain, mirrored = conv(x), bordered_forward(conv, x, 4)
    assert mirrored.shape == x.shape
    assert torch.allclose(mirrored[..., 1:-1, 1:-1], plain[..., 1:-1, 1:-1], atol=1e-6)
    assert not torch.allclose(mirrored[..., 0, :], plain[..., 0, :])
    # the edge now sees the mirrored picture: the conv on a reflect-padded input
    with torch.no_grad():
        ref = nn.functional.conv2d(nn.functional.pad(x, (1, 1, 1, 1), mode='reflect'),
                                   conv.weight, conv.bias)
    assert torch.allclose(mirrored, ref, atol=1e-6)


def test_border_larger_than_the_picture_replicates_and_gradients_flow():
    conv = nn.Conv2d(3, 2, 3, padding=1)
    x = torch.rand(1, 3, 3, 5, requires_grad=True)
    y = bordered_forward(conv, x, 4)  # reflect cannot pad 4 px around 3 rows
    assert y.shape == (1, 2, 3, 5)
    y.square().mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert conv.weight.grad.abs().sum() > 0


def test_border_with_the_student_at_an_odd_size(student):
    x = torch.rand(1, 3, 19, 27)
    with torch.no_grad():
        y = bordered_forward(student, x, student.multiple)
    assert y.shape == x.shape and torch.isfinite(y).all()


@pytest.mark.parametrize('border', [-1, 1.5, True])
def test_bad_border_raises(border):
    with pytest.raises(ValueError, match='border must be an int >= 0'):
        bordered_forward(lambda t: t, torch.rand(1, 3, 4, 4), border)


def test_border_fn_changing_the_size_raises():
    with pytest.raises(ValueError, match='keep the spatial size'):
        bordered_forward(lambda t: t[..., 1:, :], torch.rand(1, 3, 8, 8), 2)
