"""SNPatchDiscriminator: patch logits, feature taps and their pooled embedding."""
import pytest
import torch

from uniremoval_mm.models import SNPatchDiscriminator


def test_discriminator_patch_logits_odd_sizes_and_backward():
    disc = SNPatchDiscriminator(base_channels=4, num_conv=2)
    x = torch.rand(2, 3, 27, 33, requires_grad=True)
    out, feats = disc(x, return_features=True)
    assert out.shape[:2] == (2, 1) and min(out.shape[-2:]) >= 1
    assert set(feats) == set(disc.feature_channels) == {'layer0', 'layer1', 'layer2'}
    out.mean().backward()
    assert x.grad is not None and all(p.grad is not None for p in disc.parameters())
    # spectral norm is on: every convolution's weight is reparametrised
    assert all(hasattr(m, 'weight_orig') for m in disc.modules() if isinstance(m, torch.nn.Conv2d))
    with pytest.raises(ValueError, match='at least 12 pixels'):
        disc(torch.rand(1, 3, 11, 40))
    with pytest.raises(ValueError):
        SNPatchDiscriminator(num_conv=0)


def test_discriminator_features_pool_the_taps_odd_sizes_and_backward():
    disc = SNPatchDiscriminator(base_channels=4, num_conv=2)
    x = torch.rand(2, 3, 27, 33, requires_grad=True)
    z = disc.features(x, ('layer0', 'layer2'))
    assert z.shape == (2, 4 + 16)
    disc.eval()  # no power iteration of spectral norm between the two calls
    _, taps = disc(x, return_features=True)
    torch.testing.assert_close(disc.features(x, ['layer0']), taps['layer0'].mean((2, 3)))
    assert disc.features(x).shape == (2, 4 + 8 + 16)  # all taps by default
    z.sum().backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='no taps'):
        disc.features(x, ('layer5', ))
