"""UniRemovalNet: shapes on odd sizes, gradients, feature taps, cost budgets."""
import pytest
import torch

from uniremoval_mm.models import (SIZES, NAFBlock, UniRemovalNet, UniRemovalNetS,
                                  build_uniremoval_net)

TINY = dict(width=4, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1))


@pytest.mark.parametrize('size', [(1, 1), (3, 17), (33, 47), (64, 64), (5, 2)])
def test_any_input_size_round_trips(size):
    torch.manual_seed(0)
    net = UniRemovalNet(**TINY)
    x = torch.rand(2, 3, *size)
    y = net(x)
    assert y.shape == x.shape
    assert torch.isfinite(y).all()


def test_backward_reaches_every_parameter():
    torch.manual_seed(0)
    net = UniRemovalNet(**TINY)
    for p in net.parameters():  # leave the zero-init start so every weight gets a gradient
        if not p.detach().any():
            torch.nn.init.constant_(p, 0.1)
    x = torch.rand(2, 3, 19, 23, requires_grad=True)
    net(x).square().mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name
    assert x.grad is not None


def test_new_blocks_are_identity():
    block = NAFBlock(6)
    x = torch.randn(1, 6, 9, 11)
    torch.testing.assert_close(block(x), x)


def test_feature_taps_names_channels_and_footprint():
    net = UniRemovalNet(width=4, enc_blocks=(1, 1, 1), middle_blocks=1)
    x = torch.rand(1, 3, 30, 45)  # padded to 32x48 inside
    out, feats = net(x, return_features=True)
    assert out.shape == x.shape
    assert set(feats) == set(net.feature_channels)
    for name, feat in feats.items():
        assert feat.shape[1] == net.feature_channels[name], name
    assert feats['enc0'].shape[-2:] == (30, 45)
    assert feats['dec0'].shape[-2:] == (30, 45)
    assert feats['enc1'].shape[-2:] == (15, 23)
    assert feats['middle'].shape[-2:] == (4, 6)  # ceil(30/8), ceil(45/8)


def test_a_new_network_is_the_identity():
    """Zero-initialised tail + global residual: training starts from the input."""
    x = torch.rand(1, 3, 13, 7)
    torch.testing.assert_close(UniRemovalNet(**TINY)(x), x)
    assert not torch.equal(UniRemovalNet(**TINY, zero_init_tail=False)(x), x)


def test_icnr_starts_every_pixel_shuffle_as_nearest_neighbour():
    """ICNR: the four sub-pixels of a new upsampling are equal (no 2-px checkerboard
    at the start of training); without it they differ; it still learns."""
    torch.manual_seed(0)
    net = UniRemovalNet(width=6, enc_blocks=(1, 1), middle_blocks=1)
    for up in net.ups:
        y = up(torch.randn(1, up[0].in_channels, 5, 7))
        for di, dj in ((0, 1), (1, 0), (1, 1)):
            torch.testing.assert_close(y[..., di::2, dj::2], y[..., ::2, ::2])
    plain = UniRemovalNet(width=6, enc_blocks=(1, 1), middle_blocks=1, icnr_init=False)
    y = plain.ups[0](torch.randn(1, plain.ups[0][0].in_channels, 5, 7))
    assert not torch.allclose(y[..., 1::2, 1::2], y[..., ::2, ::2])
    net.ups[0](torch.randn(1, net.ups[0][0].in_channels, 3, 5)).square().mean().backward()
    assert net.ups[0][0].weight.grad.abs().sum() > 0


SMOOTH = dict(TINY, down_kernel=3, upsample='bilinear')


@pytest.mark.parametrize('size', [(1, 1), (3, 17), (33, 47), (5, 2)])
def test_overlapping_down_and_bilinear_up_on_any_size_with_backward(size):
    torch.manual_seed(0)
    net = UniRemovalNet(**SMOOTH)
    for p in net.parameters():
        if not p.detach().any():
            torch.nn.init.constant_(p, 0.1)
    x = torch.rand(2, 3, *size, requires_grad=True)
    y, feats = net(x, return_features=True)
    assert y.shape == x.shape and torch.isfinite(y).all()
    assert {k: v.shape[1] for k, v in feats.items()} == net.feature_channels
    y.square().mean().backward()
    for name, p in net.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert net.downs[0].kernel_size == (3, 3) and net.downs[0].padding == (1, 1)
    assert isinstance(net.ups[0][1], torch.nn.Upsample)
    assert UniRemovalNet(**SMOOTH)(x).equal(x)  # still the identity when new


def test_bilinear_up_has_no_sub_pixel_pattern():
    """A constant low-resolution map comes back constant (a pixel shuffle with four
    different sub-pixel kernels would print a 2-px pattern), and an impulse spreads over
    its neighbours instead of one 2x2 block."""
    torch.manual_seed(0)
    up = UniRemovalNet(**SMOOTH).ups[0]
    const = up(torch.ones(1, up[0].in_channels, 6, 6))
    torch.testing.assert_close(const, const[..., :1, :1].expand_as(const))
    impulse = torch.zeros(1, up[0].in_channels, 7, 7)
    impulse[..., 3, 3] = 1
    out = up(impulse) - up(torch.zeros_like(impulse))
    assert (out[0, 0].abs() > 1e-6).sum() > 4


@pytest.mark.parametrize('kwargs, match', [
    (dict(width=0), 'width'),
    (dict(enc_blocks=(1, 1), dec_blocks=(1, )), 'same length'),
    (dict(middle_blocks=-1), '>= 0'),
    (dict(pad_mode='zeros'), 'pad_mode'),
    (dict(down_kernel=4), 'down_kernel'),
    (dict(upsample='nearest'), 'upsample'),
])
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UniRemovalNet(**kwargs)


def test_wrong_input_shape_raises():
    with pytest.raises(ValueError, match=r'expected \(N, 3, H, W\)'):
        UniRemovalNet(**TINY)(torch.rand(1, 1, 8, 8))


def test_named_sizes_and_registered_factories():
    from mmagic.registry import MODELS
    with pytest.raises(ValueError, match='unknown UniRemovalNet size'):
        build_uniremoval_net('XL')
    net = MODELS.build(dict(type='mmagic.UniRemovalNetS'))
    assert isinstance(net, UniRemovalNet) and net.width == SIZES['S']['width']
    assert UniRemovalNetS(in_channels=1).in_channels == 1


# Cost budgets at 640x640 (issue #4), with mmengine's counter: one multiply-add = 1.
BUDGET_GMACS = {'T': 2.0, 'S': 9.0, 'B': 30.0}


@pytest.mark.parametrize('size', sorted(SIZES))
def test_cost_within_budget_at_640(size):
    from uniremoval_mm.utils.complexity import count_macs_params
    macs, params = count_macs_params(build_uniremoval_net(size), (3, 640, 640))
    assert macs / 1e9 <= BUDGET_GMACS[size], f'{size}: {macs / 1e9:.2f} GMACs'
    assert macs / 1e9 >= BUDGET_GMACS[size] / 8, f'{size} is far below its budget: resize it'
    assert params > 0
