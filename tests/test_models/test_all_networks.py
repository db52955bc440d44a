"""One suite over every network this package registers (timm-style).

Each registered network needs a tiny config below; a new registration without one fails
``test_every_registered_network_is_covered``. For each: forward on odd sizes, no NaN,
deterministic in eval, feature taps as declared, backward reaching every trainable
parameter, and no gradient at all through a frozen teacher.
"""
import pytest
import torch
from mmagic.registry import MODELS

import uniremoval_mm  # noqa: F401

TINY = {
    'UniRemovalNet': dict(width=4, enc_blocks=(1, 1), middle_blocks=1, dec_blocks=(1, 1)),
    'UniRemovalNetT': dict(),
    'UniRemovalNetS': dict(),
    'UniRemovalNetB': dict(),
    'AODNet': dict(),
    'PReNet': dict(stages=2, channels=8, res_blocks=2),
    'DnCNN': dict(depth=5, channels=8),
    'DarkChannelPrior': dict(patch=5, radius=4),
    'FrozenTeacher': dict(model=dict(type='DnCNN', depth=3, channels=4)),
}
SIZES = [(1, 3, 8, 8), (2, 3, 37, 53)]


def _ours():
    return sorted(name for name, obj in MODELS.module_dict.items()
                  if getattr(obj, '__module__', '').startswith('uniremoval_mm')
                  # losses (and their feature extractors), editors and discriminators
                  # have their own suites
                  and not name.endswith(('Loss', 'Distiller', 'Calibrator', 'Discriminator',
                                         'FeatureExtractor')))


def _build(name):
    torch.manual_seed(0)
    return MODELS.build(dict(type=name, _scope_='mmagic', **TINY[name]))


def test_every_registered_network_is_covered():
    assert _ours() == sorted(TINY)


@pytest.mark.parametrize('shape', SIZES, ids=lambda s: 'x'.join(map(str, s)))
@pytest.mark.parametrize('name', sorted(TINY))
def test_forward_eval_deterministic_and_taps(name, shape):
    net = _build(name).eval()
    x = torch.rand(*shape)
    with torch.no_grad():
        y1, y2 = net(x), net(x)
    assert y1.shape == x.shape
    assert torch.isfinite(y1).all()
    torch.testing.assert_close(y1, y2, rtol=0, atol=0)
    channels = getattr(net, 'feature_channels', None)
    if channels:
        with torch.no_grad():
            out, feats = net(x, return_features=True)
        torch.testing.assert_close(out, y1)
        assert set(feats) == set(channels)
        for tap, feat in feats.items():
            assert feat.shape[0] == shape[0] and feat.shape[1] == channels[tap], tap
            assert torch.isfinite(feat).all(), tap


@pytest.mark.parametrize('name', sorted(TINY))
def test_backward(name):
    net = _build(name).train()
    trainable = [(n, p) for n, p in net.named_parameters() if p.requires_grad]
    for n, p in trainable:  # zero-initialised scales and tails would block the gradient
        if not p.detach().any():
            torch.nn.init.constant_(p, 0.1)
    x = torch.rand(2, 3, 37, 53, requires_grad=True)
    out = net(x)
    if name == 'FrozenTeacher':
        assert out.grad_fn is None
        assert not any(p.requires_grad for p in net.parameters())
        return
    out.square().mean().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    for n, p in trainable:
        assert p.grad is not None and torch.isfinite(p.grad).all(), n
        assert p.grad.abs().sum() > 0, n


@pytest.mark.parametrize('name', sorted(TINY))
def test_nan_and_inf_inputs_stay_in_their_sample(name):
    """NaN/Inf pixels (bad input of the corpus) neither crash a network nor leak into the
    other samples of the batch; what they do to their own sample is caught downstream
    (the restore tool refuses a non-finite output, the optimiser guard a non-finite
    loss)."""
    net = _build(name).eval()
    clean = torch.rand(1, 3, 21, 27)
    bad = torch.rand(1, 3, 21, 27)
    bad[0, 0, 3, 4], bad[0, 1, 10, 10], bad[0, 2, 0, 0] = float('nan'), float('inf'), -float(
        'inf')
    with torch.no_grad():
        alone = net(clean)
        both = net(torch.cat([bad, clean]))
    assert both.shape == (2, 3, 21, 27)
    torch.testing.assert_close(both[1:], alone, rtol=1e-5, atol=1e-5)
