"""UniRemovalNet: the unified student, a small U-Net of NAFNet-style blocks.

The idea follows NAFNet (Chen et al., ECCV'22, MIT licence): blocks without
non-linear activations, a ``SimpleGate`` (split channels, multiply), simplified channel
attention, and zero-initialised residual scales so that every block starts as the
identity. The code is ours. Named sizes: :data:`SIZES`, built by
:func:`build_uniremoval_net` or registered as ``UniRemovalNetT`` / ``S`` / ``B``; the
cost of each size is measured in ``docs/models.md``. Fast CPU
inference is a separate, explicit step: :meth:`UniRemovalNet.fuse` (``fused.py``).
"""
from typing import TYPE_CHECKING, Dict, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmagic.registry import MODELS
from torch import Tensor, nn

if TYPE_CHECKING:
    from .fused import FusedUniRemovalNet

__all__ = ['UniRemovalNet', 'NAFBlock', 'SimpleGate', 'LayerNorm2d']


class LayerNorm2d(nn.Module):
    """Layer norm over the channels of an NCHW tensor, at every pixel.

    Args:
        channels (int): Number of channels.
        eps (float): Added to the variance. Defaults to 1e-6.
    """

    def __init__(self, channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        mean = x.mean(1, keepdim=True)
        var = (x - mean).pow(2).mean(1, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias


class SimpleGate(nn.Module):
    """Split the channels in two halves and multiply them: a gate with no activation."""

    def forward(self, x: Tensor) -> Tensor:
        a, b = x.chunk(2, dim=1)
        return a * b


class NAFBlock(nn.Module):
    """A NAFNet-style block: gated depth-wise conv + channel attention, then a gated FFN.

    Both branches are residual with zero-initialised scales, so a new block is the
    identity and training starts from a plain skip path.

    Args:
        channels (int): Input and output channels.
        dw_expand (int): Channel expansion before the depth-wise conv. Defaults to 2.
        ffn_expand (int): Channel expansion of the feed-forward branch. Defaults to 2.
    """

    def __init__(self, channels: int, dw_expand: int = 2, ffn_expand: int = 2) -> None:
        super().__init__()
        dw = channels * dw_expand
        ffn = channels * ffn_expand
        self.norm1 = LayerNorm2d(channels)
        self.expand = nn.Conv2d(channels, dw, 1)
        self.dwconv = nn.Conv2d(dw, dw, 3, padding=1, groups=dw)
        self.gate = SimpleGate()
        self.attention = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(dw // 2, dw // 2, 1))
        self.project = nn.Conv2d(dw // 2, channels, 1)
        self.norm2 = LayerNorm2d(channels)
        self.ffn_in = nn.Conv2d(channels, ffn, 1)
        self.ffn_out = nn.Conv2d(ffn // 2, channels, 1)
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.gamma = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        y = self.gate(self.dwconv(self.expand(self.norm1(x))))
        y = self.project(y * self.attention(y))
        x = x + self.beta * y
        y = self.ffn_out(self.gate(self.ffn_in(self.norm2(x))))
        return x + self.gamma * y


def _blocks(channels: int, num: int) -> nn.Sequential:
    return nn.Sequential(*[NAFBlock(channels) for _ in range(num)])


@MODELS.register_module()
class UniRemovalNet(nn.Module):
    """The unified restoration student: a U-Net of NAFNet-style blocks.

    ``out = x + tail(decoder(middle(encoder(head(x)))))``: the network predicts a
    residual on top of its input (global residual). Each encoder level halves the
    resolution and doubles the width; each decoder level undoes it and adds the skip.

    Feature taps (for distillation), from ``forward(x, return_features=True)``:
    ``enc{i}`` (encoder level ``i`` output, before downsampling, width ``width * 2**i``),
    ``middle`` (bottleneck), ``dec{i}`` (decoder level ``i``, same width as ``enc{i}``).

    Args:
        in_channels (int): Input (and output) channels. Defaults to 3.
        width (int): Channels at full resolution. Defaults to 16.
        enc_blocks (Sequence[int]): Blocks per encoder level; its length is the number of
            downsamplings. Defaults to (1, 1, 2).
        middle_blocks (int): Blocks at the bottleneck. Defaults to 2.
        dec_blocks (Sequence[int], optional): Blocks per decoder level, from the deepest
            level up; same length as ``enc_blocks``. Defaults to None (one per level).
        pad_mode (str): ``F.pad`` mode used to reach a multiple of ``2**levels``; the
            output is cropped back. Defaults to ``'replicate'`` (valid for any size).
        zero_init_tail (bool): Start the tail conv at zero, so a new network is the
            identity (output = input) instead of input plus noise; training starts from
            the input's quality. Defaults to True.
        icnr_init (bool): Initialise each upsampling conv with ICNR (Aitken et al.,
            2017): its four sub-pixel kernels start equal, so a new pixel shuffle is a
            nearest-neighbour upsampling instead of a 2-px checkerboard that training
            has to undo. Only the
            initial values change; ignored with ``upsample='bilinear'``. Defaults to True.
        down_kernel (int): Kernel of the stride-2 downsampling convs: 2 (NAFNet's
            non-overlapping 2x2) or 3 (overlapping 3x3, padding 1: every output sees its
            neighbours, so the deepest level's cells do not tile the image into
            independent ``multiple``-px blocks). Defaults to 2.
        upsample (str): ``'pixelshuffle'`` (NAFNet's 1x1 conv to 4x the channels and a
            pixel shuffle: each of the 4 sub-pixels has its own weights) or
            ``'bilinear'`` (a 1x1 conv to half the channels, then bilinear
            interpolation: smooth by construction, no sub-pixel pattern). Defaults to
            ``'pixelshuffle'`` (the named size S uses ``down_kernel=3`` and
            ``'bilinear'``: :data:`SIZES`).
    """

    def __init__(self,
                 in_channels: int = 3,
                 width: int = 16,
                 enc_blocks: Sequence[int] = (1, 1, 2),
                 middle_blocks: int = 2,
                 dec_blocks: Union[Sequence[int], None] = None,
                 pad_mode: str = 'replicate',
                 zero_init_tail: bool = True,
                 icnr_init: bool = True,
                 down_kernel: int = 2,
                 upsample: str = 'pixelshuffle') -> None:
        super().__init__()
        enc_blocks = tuple(enc_blocks)
        dec_blocks = tuple(dec_blocks) if dec_blocks is not None else (1, ) * len(enc_blocks)
        if width < 1 or in_channels < 1:
            raise ValueError(f'width and in_channels must be >= 1, got {width}, {in_channels}')
        if len(dec_blocks) != len(enc_blocks):
            raise ValueError(f'dec_blocks {dec_blocks} and enc_blocks {enc_blocks} must have '
                             'the same length (one decoder level per encoder level)')
        if min(enc_blocks + dec_blocks + (middle_blocks, ), default=0) < 0:
            raise ValueError('block counts must be >= 0')
        if pad_mode not in ('replicate', 'reflect', 'constant', 'circular'):
            raise ValueError(f'unknown pad_mode {pad_mode!r}')
        if down_kernel not in (2, 3):
            raise ValueError(f'down_kernel must be 2 or 3, got {down_kernel!r}')
        if upsample not in ('pixelshuffle', 'bilinear'):
            raise ValueError(f"upsample must be 'pixelshuffle' or 'bilinear', got {upsample!r}")
        self.in_channels = in_channels
        self.width = width
        self.pad_mode = pad_mode
        self.multiple = 2**len(enc_blocks)
        self.down_kernel = down_kernel
        self.upsample = upsample

        self.head = nn.Conv2d(in_channels, width, 3, padding=1)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        channels = width
        for num in enc_blocks:
            self.encoders.append(_blocks(channels, num))
            self.downs.append(
                nn.Conv2d(channels, channels * 2, down_kernel, stride=2, padding=down_kernel - 2))
            channels *= 2
        self.middle = _blocks(channels, middle_blocks)
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for num in dec_blocks:
            if upsample == 'pixelshuffle':
                up = nn.Sequential(nn.Conv2d(channels, channels * 2, 1), nn.PixelShuffle(2))
            else:  # a 1x1 conv commutes with bilinear interpolation: run it at low res
                up = nn.Sequential(nn.Conv2d(channels, channels // 2, 1),
                                   nn.Upsample(scale_factor=2, mode='bilinear',
                                               align_corners=False))
            self.ups.append(up)
            channels //= 2
            self.decoders.append(_blocks(channels, num))
        self.tail = nn.Conv2d(width, in_channels, 3, padding=1)
        if icnr_init and upsample == 'pixelshuffle':
            for up in self.ups:
                _icnr_(up[0], scale=2)
        if zero_init_tail:
            nn.init.zeros_(self.tail.weight)
            nn.init.zeros_(self.tail.bias)

    @property
    def feature_channels(self) -> Dict[str, int]:
        """Channels of every feature tap, by name."""
        levels = len(self.encoders)
        taps = {f'enc{i}': self.width * 2**i for i in range(levels)}
        taps['middle'] = self.width * 2**levels
        taps.update({f'dec{i}': self.width * 2**i for i in range(levels)})
        return taps

    def pad_to_multiple(self, x: Tensor) -> Tuple[Tensor, int, int]:
        """Pad ``x`` at the bottom and right to a multiple of :attr:`multiple`.

        Args:
            x (Tensor): (N, C, H, W).

        Returns:
            tuple[Tensor, int, int]: The padded tensor, and the original H and W.
        """
        h, w = x.shape[-2:]
        ph, pw = -h % self.multiple, -w % self.multiple
        if ph or pw or torch.jit.is_tracing():  # a traced graph must pad for any size
            mode = self.pad_mode
            if mode == 'reflect' and (ph >= h or pw >= w):
                mode = 'replicate'  # reflect cannot pad by more than the size
            x = F.pad(x, (0, pw, 0, ph), mode=mode)
        return x, h, w

    def forward(self, x: Tensor,
                return_features: bool = False) -> Union[Tensor, Tuple[Tensor, Dict[str, Tensor]]]:
        """Restore ``x``.

        Args:
            x (Tensor): Degraded images, (N, C, H, W), any H and W, values in [0, 1].
            return_features (bool): Also return the feature taps (cropped to the
                input's footprint at each scale). Defaults to False.

        Returns:
            Tensor | tuple[Tensor, dict[str, Tensor]]: The restored images, same shape
            as ``x``; with ``return_features``, also the taps by name.
        """
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'expected (N, {self.in_channels}, H, W), got {tuple(x.shape)}')
        padded, h, w = self.pad_to_multiple(x)
        feats: Dict[str, Tensor] = {}
        y = self.head(padded)
        skips = []
        for i, (encoder, down) in enumerate(zip(self.encoders, self.downs)):
            y = encoder(y)
            skips.append(y)
            feats[f'enc{i}'] = y
            y = down(y)
        y = self.middle(y)
        feats['middle'] = y
        for j, (up, decoder) in enumerate(zip(self.ups, self.decoders)):
            level = len(skips) - 1 - j  # decoders run from the deepest level up
            y = decoder(up(y) + skips[level])
            feats[f'dec{level}'] = y
        out = padded + self.tail(y)
        out = out[..., :h, :w]
        if not return_features:
            return out
        return out, {k: _crop_like(v, h, w, padded.shape[-2]) for k, v in feats.items()}

    def fuse(self) -> 'FusedUniRemovalNet':
        """The fused CPU inference form of this network (inference only, no gradients).

        Returns:
            FusedUniRemovalNet: A wrapper reading this network's weights on every call
            (see :mod:`uniremoval_mm.models.students.fused`).
        """
        from .fused import FusedUniRemovalNet
        return FusedUniRemovalNet(self)


def _icnr_(conv: nn.Conv2d, scale: int) -> None:
    """ICNR in place: ``conv`` (before a ``PixelShuffle(scale)``) gets the same kernel
    for every sub-pixel position of an output channel, drawn with the default init of a
    conv with ``scale**2`` times fewer outputs; the bias likewise."""
    out = conv.out_channels // scale**2
    ref = nn.Conv2d(conv.in_channels, out, conv.kernel_size, bias=conv.bias is not None)
    with torch.no_grad():  # PixelShuffle reads channel c * scale**2 + k for sub-pixel k
        conv.weight.copy_(ref.weight.repeat_interleave(scale**2, dim=0))
        if conv.bias is not None:
            conv.bias.copy_(ref.bias.repeat_interleave(scale**2))


def _crop_like(feat: Tensor, h: int, w: int, padded_h: int) -> Tensor:
    scale = padded_h // feat.shape[-2]
    return feat[..., :max(1, -(-h // scale)), :max(1, -(-w // scale))]


def _factory(width: int, enc_blocks, middle_blocks: int, dec_blocks, **kwargs) -> dict:
    return dict(width=width, enc_blocks=enc_blocks, middle_blocks=middle_blocks,
                dec_blocks=dec_blocks, **kwargs)


#: The named sizes: :class:`UniRemovalNet` arguments. Cost at 640x640 (mmengine's counter):
#: T <= 2 GMACs, S <= 9 GMACs, B <= 30 GMACs (measured: docs/models.md). S, the released
#: student, samples with overlapping 3x3 convs and bilinear up-sampling; T (the frozen IGCL
#: extractor's network) and B with 2x2 convs and pixel shuffle, as NAFNet.
SIZES = {
    'T': _factory(8, (1, 1, 1), 1, (1, 1, 1)),
    'S': _factory(14, (1, 1, 2, 2), 2, (1, 1, 1, 1), down_kernel=3, upsample='bilinear'),
    'B': _factory(24, (1, 1, 2, 4), 4, (1, 1, 1, 1)),
}


def build_uniremoval_net(size: str = 'S', **kwargs) -> UniRemovalNet:
    """Build a named size of :class:`UniRemovalNet`.

    Args:
        size (str): ``'T'``, ``'S'`` or ``'B'``. Defaults to ``'S'``.
        **kwargs: Overrides of the size's arguments (e.g. ``in_channels``).

    Returns:
        UniRemovalNet: The network.
    """
    if size not in SIZES:
        raise ValueError(f'unknown UniRemovalNet size {size!r}; choose from {sorted(SIZES)}')
    return UniRemovalNet(**{**SIZES[size], **kwargs})


@MODELS.register_module()
def UniRemovalNetT(**kwargs) -> UniRemovalNet:  # noqa: N802  (a type name in configs)
    """UniRemovalNet size T (tiny): see :data:`SIZES`; ``kwargs`` override it."""
    return build_uniremoval_net('T', **kwargs)


@MODELS.register_module()
def UniRemovalNetS(**kwargs) -> UniRemovalNet:  # noqa: N802
    """UniRemovalNet size S (small, the default student): see :data:`SIZES`."""
    return build_uniremoval_net('S', **kwargs)


@MODELS.register_module()
def UniRemovalNetB(**kwargs) -> UniRemovalNet:  # noqa: N802
    """UniRemovalNet size B (base): see :data:`SIZES`."""
    return build_uniremoval_net('B', **kwargs)
