"""FusedUniRemovalNet, a UniRemovalNet's fused CPU inference form: the same output as the
network, the same weights and state, made only explicitly."""
import warnings

import pytest
import torch

from uniremoval_mm.models import (FusedUniRemovalNet, NAFBlock, UniRemovalNet, build_uniremoval_net,
                                  fuse_restorer)
from uniremoval_mm.models.students import fused as fused_module

TINY = dict(width=4, enc_blocks=(1, 2), middle_blocks=1, dec_blocks=(2, 1))


def _trained_like(net: torch.nn.Module, std: float = 0.2) -> torch.nn.Module:
    """Perturb every weight, zero-initialised scales and tail included."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * std)
    return net.eval()


def _reference(net: UniRemovalNet, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return net(x)


CASES = [((1, 3, 1, 1), None), ((1, 3, 37, 53), None), ((2, 3, 30, 45), None),
         ((1, 3, 5, 2), None), ((3, 3, 17, 9), None),  # one band, one tile per block
         ((1, 3, 23, 31), 7), ((2, 3, 17, 9), 7),  # one-pixel tiles, one-row bands
         ((1, 3, 37, 53), 300), ((2, 3, 30, 45), 300)]  # a few bands and tiles per block


@pytest.mark.parametrize('shape, tile_floats', CASES,
                         ids=lambda c: 'x'.join(map(str, c)) if isinstance(c, tuple) else c)
def test_fused_matches_the_network(shape, tile_floats, monkeypatch):
    if tile_floats is not None:
        monkeypatch.setattr(fused_module, 'TILE_FLOATS', tile_floats)
    net = _trained_like(UniRemovalNet(**TINY))
    x = torch.rand(*shape)
    before = x.clone()
    with torch.inference_mode():
        fast = net.fuse()(x)
    torch.testing.assert_close(fast, _reference(net, x), atol=1e-5, rtol=1e-5)
    assert fast.shape == x.shape
    torch.testing.assert_close(x, before, rtol=0, atol=0)  # the input is not written to


@pytest.mark.parametrize('shape', [(1, 3, 37, 53), (2, 3, 17, 9), (1, 3, 1, 1)])
def test_fused_follows_overlapping_down_and_bilinear_up(shape):
    net = _trained_like(UniRemovalNet(**TINY, down_kernel=3, upsample='bilinear'))
    x = torch.rand(*shape)
    with torch.inference_mode():
        fast = net.fuse()(x)
    torch.testing.assert_close(fast, _reference(net, x), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('size', ['T', 'S', 'B'])
def test_named_sizes_match_and_weights_load_unchanged(size):
    net = _trained_like(build_uniremoval_net(size))
    keys = {k: v.shape for k, v in build_uniremoval_net(size).state_dict().items()}
    assert {k: v.shape for k, v in net.state_dict().items()} == keys  # no new state
    other = build_uniremoval_net(size)
    other.load_state_dict(net.state_dict(), strict=True)
    x = torch.rand(1, 3, 41, 67)
    fused = FusedUniRemovalNet(other.eval())
    own = {k: v.data_ptr() for k, v in other.state_dict().items()}  # the net's, no copies
    assert {k: v.data_ptr() for k, v in fused.state_dict().items()} == {
        f'net.{k}': v for k, v in own.items()}
    fast = fused(x)
    ref = _reference(net, x)  # random deep nets reach large values: compare to their scale
    torch.testing.assert_close(fast, ref, atol=1e-5 * float(ref.abs().max()), rtol=1e-5)


def test_the_network_never_switches_to_the_fused_form(monkeypatch):
    """``forward`` is the network alone, in eval mode without gradients too; the fused
    form is made only by ``fuse()`` / ``FusedUniRemovalNet`` / ``fuse_restorer``."""
    net = _trained_like(UniRemovalNet(**TINY))
    calls = []
    monkeypatch.setattr(FusedUniRemovalNet, 'forward', lambda self, x: calls.append(1) or x)
    x = torch.rand(1, 3, 9, 11)
    with torch.inference_mode():
        net(x)
    assert not calls
    assert isinstance(net.fuse(), FusedUniRemovalNet) and net.fuse().net is net
    assert isinstance(fuse_restorer(net), FusedUniRemovalNet)
    other = torch.nn.Conv2d(3, 3, 1)
    assert fuse_restorer(other) is other
    with pytest.raises(TypeError, match='UniRemovalNet'):
        FusedUniRemovalNet(other)


def test_fused_takes_no_gradients_tracing_or_autocast():
    net = _trained_like(UniRemovalNet(**TINY))
    x = torch.rand(1, 3, 9, 11, requires_grad=True)
    out = net.fuse()(x)  # gradients on outside: none inside
    assert not out.requires_grad and net.fuse().multiple == net.multiple
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        with pytest.raises(RuntimeError, match='autocast'):
            net.fuse()(x)
    with pytest.raises(RuntimeError, match='traceable'), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # torch.jit.trace's own deprecation
        torch.jit.trace(net.fuse(), x.detach(), check_trace=False)
    with pytest.raises(ValueError, match='expected'):
        net.fuse()(torch.rand(1, 4, 9, 11))


def test_block_nhwc_equals_block():
    block = _trained_like(NAFBlock(6))
    x = torch.randn(2, 6, 9, 11)
    with torch.no_grad():
        ref = block(x)
        out = fused_module.block_nhwc(block, x.permute(0, 2, 3, 1).contiguous())
        out = out.permute(0, 3, 1, 2)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)


def test_autocast_inference_runs_the_network():
    """A frozen copy under mixed precision (stage 2's reference with an AMP wrapper) runs
    the network itself under autocast."""
    net = _trained_like(build_uniremoval_net('T')).eval()
    x = torch.rand(1, 3, 19, 23)
    with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
        out = net(x)
    with torch.no_grad():
        ref = net(x)
    assert out.shape == x.shape
    assert (out.float() - ref).abs().max() < 0.05 * ref.abs().max()  # bf16 rounding only


def _always_pad(channels, always=False):
    return -(-channels // 16) * 16


@pytest.mark.parametrize('shape, tile_floats', CASES[1:],
                         ids=lambda c: 'x'.join(map(str, c)) if isinstance(c, tuple) else c)
def test_zero_padded_channels_match_the_training_path(shape, tile_floats, monkeypatch):
    """Every level padded to 16 channels (S pads only its 14-channel level)."""
    monkeypatch.setattr(fused_module, 'fast_width', _always_pad)
    if tile_floats is not None:
        monkeypatch.setattr(fused_module, 'TILE_FLOATS', tile_floats)
    net = _trained_like(UniRemovalNet(**TINY))
    x = torch.rand(*shape)
    with torch.inference_mode():
        fast = net.fuse()(x)
    torch.testing.assert_close(fast, _reference(net, x), atol=1e-5, rtol=1e-5)


def test_fast_width_pads_only_widths_just_under_16():
    assert [fused_module.fast_width(c) for c in (4, 8, 13, 14, 15, 16, 24, 28, 56)] == \
        [4, 8, 13, 16, 16, 16, 24, 28, 56]
    assert fused_module.fast_width(28, always=True) == 32


@pytest.mark.parametrize('reverse', [False, True])
def test_scale_channel_order_and_clamp_are_folded_exactly(reverse):
    net = _trained_like(UniRemovalNet(**TINY))
    x = torch.randint(0, 256, (2, 3, 29, 47)).float()
    with torch.inference_mode():
        folded = net.fuse()(x, scale=255.0, reverse_channels=reverse, clamp=True)
        rgb = x.flip(1) if reverse else x
        ref = net(rgb / 255).clamp(0, 1) * 255
        ref = ref.flip(1) if reverse else ref
    torch.testing.assert_close(folded, ref, atol=1e-3, rtol=0)  # 0-255 scale
    assert 0 <= float(folded.min()) and float(folded.max()) <= 255


def test_any_input_strides():
    """A permuted (H, W, C) image: its batch stride is not channels_last's."""
    net = _trained_like(UniRemovalNet(**TINY))
    x = torch.rand(33, 18, 3).permute(2, 0, 1)[None]
    with torch.inference_mode():
        torch.testing.assert_close(net.fuse()(x), _reference(net, x.contiguous()),
                                   atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('shape', [(1, 3, 37, 53), (2, 3, 17, 9), (1, 3, 1, 1)])
def test_bfloat16_products_stay_close_to_float32(shape, monkeypatch):
    monkeypatch.setattr(fused_module, 'TILE_FLOATS', 300)  # several bands and tiles
    net = _trained_like(build_uniremoval_net('S'), std=0.05)  # 0.2 makes S chaotic
    x = torch.rand(*shape)
    before = x.clone()
    with torch.inference_mode():
        ref = net.fuse()(x)
        out = net.fuse()(x, torch.bfloat16)
    assert out.dtype == torch.float32 and out.shape == x.shape
    # random deep nets reach large values: compare to their scale
    assert float((out - ref).abs().max()) <= 0.01 * float(ref.abs().max())  # ~0.0015
    torch.testing.assert_close(x, before, rtol=0, atol=0)
