"""init_restorer / restore_image / Restorer: build from a config, a name or a checkpoint;
restore files and arrays of either bit depth, whole or tiled; clear errors."""
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from uniremoval_mm.apis import (DEFAULT_BORDER, RestorationError, Restorer, bordered_forward,
                                init_restorer, restore_image, tiled_forward)
from uniremoval_mm.datasets.image_files import ImageFileError
from uniremoval_mm.models import FusedUniRemovalNet, UniRemovalNet, UniRemovalNetT
from uniremoval_mm.models.tiling import max_overlap
from uniremoval_mm.utils.checkpoint import CheckpointError
from ..helpers import CodeRunningPayload


def _perturbed_t(seed: int = 0, scale: float = 0.05) -> UniRemovalNet:
    """UniRemovalNet-T with every weight perturbed (a fresh one is the identity)."""
    torch.manual_seed(seed)
    net = UniRemovalNetT()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * scale)
    return net.eval()


def _stage1_checkpoint(path: Path, net: nn.Module) -> str:
    """A stage-1-style checkpoint: ``generator.`` keys next to a teacher's."""
    state = {f'generator.{k}': v for k, v in net.state_dict().items()}
    state['teachers.haze.model.w'] = torch.zeros(1)
    torch.save(dict(meta=dict(iter=1), state_dict=state), path)
    return str(path)


def _same_weights(a: nn.Module, b: nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp('inference')
    net_cfg = root / 'student_t.py'
    net_cfg.write_text("model = dict(type='UniRemovalNetT')\n")
    stage1_cfg = root / 'stage1_t.py'
    stage1_cfg.write_text("default_scope = 'mmagic'\n"
                          "model = dict(type='UniRemovalDistiller', "
                          "generator=dict(type='UniRemovalNetT'))\n")
    perturbed = _perturbed_t()
    return dict(root=root, net_cfg=str(net_cfg), stage1_cfg=str(stage1_cfg), net=perturbed,
                ckpt=_stage1_checkpoint(root / 'perturbed.pth', perturbed))


@pytest.fixture(scope='module')
def restorer(files):
    return init_restorer(files['stage1_cfg'], files['ckpt'])


def _rgb(h: int, w: int, dtype=np.uint8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    top = np.iinfo(dtype).max
    yy, xx = np.mgrid[0:h, 0:w]
    smooth = np.stack([xx / max(w - 1, 1), yy / max(h - 1, 1), np.full((h, w), 0.5)], -1)
    noisy = np.clip(smooth * 0.8 + 0.1 + rng.normal(0, 0.03, smooth.shape), 0, 1)
    return np.round(noisy * top).astype(dtype)


# ------------------------------------------------------------------------ init_restorer
@pytest.mark.parametrize('which', ['net_cfg', 'stage1_cfg'])
def test_from_a_config_file_model_or_generator(files, which):
    net = init_restorer(files[which])
    assert isinstance(net, UniRemovalNet) and not net.training
    assert net.width == UniRemovalNetT().width and not net.tail.weight.any()  # a fresh T
    assert next(net.parameters()).device.type == 'cpu'


@pytest.mark.parametrize('name', ['T', 'UniRemovalNetT'])
def test_from_a_size_or_a_registered_name(name):
    net = init_restorer(name)
    assert isinstance(net, UniRemovalNet) and not net.training
    assert net.multiple == UniRemovalNetT().multiple


def test_overrides_replace_the_network_arguments():
    torch.manual_seed(3)
    a = init_restorer('T', overrides=dict(zero_init_tail=False))
    torch.manual_seed(3)
    b = UniRemovalNetT(zero_init_tail=False)
    assert _same_weights(a, b) and a.tail.weight.abs().sum() > 0


def test_a_checkpoint_loads_as_data(files, restorer):
    assert _same_weights(restorer, files['net'])
    plain = files['root'] / 'plain.pth'  # a plain state dict works as well
    torch.save(files['net'].state_dict(), plain)
    assert _same_weights(init_restorer('T', plain), files['net'])


def test_a_loaded_config_or_a_network_dict(files):
    from mmengine.config import Config
    cfg = Config.fromfile(files['stage1_cfg'])
    assert _same_weights(init_restorer(cfg, files['ckpt']), files['net'])
    assert _same_weights(init_restorer(dict(type='UniRemovalNetT'), files['ckpt']), files['net'])


def test_missing_config_names_the_file(tmp_path):
    missing = tmp_path / 'nope.py'
    with pytest.raises(FileNotFoundError, match=f'config file not found: {missing}'):
        init_restorer(str(missing))


def test_config_without_a_network_or_broken_says_so(tmp_path):
    empty = tmp_path / 'empty.py'
    empty.write_text('x = 1\n')
    with pytest.raises(ValueError, match=f'{empty}: has no model.generator or model'):
        init_restorer(empty)
    broken = tmp_path / 'broken.py'
    broken.write_text('model = dict(type=\n')
    with pytest.raises(ValueError, match=f'{broken}: cannot read the config'):
        init_restorer(broken)
    wrong = tmp_path / 'wrong.py'
    wrong.write_text("model = dict(type='UniRemovalNetT', no_such_argument=1)\n")
    with pytest.raises(ValueError, match=f'{wrong}: cannot build UniRemovalNetT'):
        init_restorer(wrong)


def test_unknown_name_lists_what_is_accepted():
    with pytest.raises(ValueError, match="'NoSuchNet' is not a config file, a student size"):
        init_restorer('NoSuchNet')


def test_missing_checkpoint_names_the_file(files, tmp_path):
    missing = tmp_path / 'missing.pth'
    with pytest.raises(CheckpointError, match=f'{missing}: checkpoint file not found'):
        init_restorer(files['net_cfg'], str(missing))


def test_checkpoint_of_another_network_names_the_file(files, tmp_path):
    other = tmp_path / 'student_s.pth'
    torch.save(init_restorer('S').state_dict(), other)
    with pytest.raises(CheckpointError, match=f'{other}: '):
        init_restorer(files['net_cfg'], str(other))
    wider = tmp_path / 'wider_t.pth'  # same keys, other shapes
    torch.save(UniRemovalNetT(width=16).state_dict(), wider)
    with pytest.raises(CheckpointError, match=f'{wider}: shapes do not match UniRemovalNet'):
        init_restorer(files['net_cfg'], str(wider))


def test_a_checkpoint_that_runs_code_is_refused(files, tmp_path):
    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pth'
    torch.save(dict(state_dict=CodeRunningPayload(marker)), evil)
    with pytest.raises(CheckpointError, match=f'{evil}: refused to load'):
        init_restorer(files['net_cfg'], str(evil))
    assert not marker.exists()


# ------------------------------------------------------------------------ restore_image
@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
@pytest.mark.parametrize('h, w', [(37, 53), (1, 1), (5, 130)])
def test_a_fresh_student_gives_back_the_input(dtype, h, w):
    img = _rgb(h, w, dtype)
    out = restore_image(init_restorer('T'), img)
    assert out.dtype == dtype and out.shape == (h, w, 3)
    np.testing.assert_array_equal(out, img)


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
def test_path_and_array_agree_and_keep_the_dtype(restorer, tmp_path, dtype):
    img = _rgb(37, 53, dtype)
    path = tmp_path / 'x.png'
    cv2.imwrite(str(path), img[..., ::-1])  # OpenCV writes BGR, 16-bit PNG for uint16
    from_path = restore_image(restorer, path)
    from_array = restore_image(restorer, img)
    assert from_path.dtype == dtype and from_path.shape == img.shape
    np.testing.assert_array_equal(from_path, from_array)
    assert np.abs(from_array.astype(float) - img).mean() > 0.01 * np.iinfo(dtype).max
    np.testing.assert_array_equal(restore_image(restorer, str(path)), from_path)


def test_uint16_and_uint8_give_the_same_picture(restorer):
    img16 = _rgb(37, 53, np.uint16)
    img8 = np.round(img16 / 257).astype(np.uint8)
    out16 = restore_image(restorer, img16).astype(float) / 257
    out8 = restore_image(restorer, img8).astype(float)
    assert np.abs(out16 - out8).max() < 3  # 8-bit input quantisation only


def test_bgr_order_for_opencv_arrays(restorer):
    img = _rgb(29, 41)
    bgr = np.ascontiguousarray(img[..., ::-1])
    out = restore_image(restorer, bgr, channel_order='bgr')
    np.testing.assert_array_equal(out[..., ::-1], restore_image(restorer, img))


def test_matches_the_network_on_the_tensor(restorer):
    img = _rgb(33, 47)
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 255
    with torch.no_grad():
        ref = restorer(x).clamp(0, 1)[0].permute(1, 2, 0).numpy()
        mirrored = bordered_forward(restorer, x, DEFAULT_BORDER)
    mirrored = mirrored.clamp(0, 1)[0].permute(1, 2, 0).numpy()
    np.testing.assert_array_equal(restore_image(restorer, img, border=0), np.round(ref * 255))
    by_default = restore_image(restorer, img)
    np.testing.assert_array_equal(by_default, np.round(mirrored * 255))
    # the margin changes the edges, and the interior far less
    diff = np.abs(by_default.astype(int) - np.round(ref * 255).astype(int))
    assert diff[0].mean() > 0 and diff[0].mean() > diff[8:-8, 8:-8].mean()


@pytest.mark.parametrize('dtype', [np.uint8, np.uint16])
def test_tiled_and_whole_agree_closely(restorer, dtype):
    img = _rgb(75, 101, dtype, seed=1)
    whole = restore_image(restorer, img).astype(float)
    tiled = restore_image(restorer, img, tile=32, overlap=16).astype(float)
    top = np.iinfo(dtype).max
    assert np.abs(whole - img).mean() > 0.01 * top  # the network does change the picture
    diff = np.abs(tiled - whole) / top
    assert diff.max() < 0.02 and diff.mean() < 0.002, (diff.max(), diff.mean())


def test_a_tile_larger_than_the_image_is_the_whole_image(restorer):
    img = _rgb(21, 30)
    np.testing.assert_array_equal(restore_image(restorer, img, tile=64),
                                  restore_image(restorer, img))


@pytest.mark.parametrize('kwargs, match', [
    (dict(img=np.zeros((4, 4), np.uint8)), r'\(H, W, 3\) array'),
    (dict(img=np.zeros((4, 4, 4), np.uint8)), r'\(H, W, 3\) array'),
    (dict(img=np.zeros((0, 4, 3), np.uint8)), r'\(H, W, 3\) array'),
    (dict(img=np.zeros((4, 4, 3), np.float32)), 'uint8 or uint16'),
    (dict(img=np.zeros((4, 4, 3), np.uint8), tile=20), 'multiple of 8'),
    (dict(img=np.zeros((4, 4, 3), np.uint8), tile=0), 'tile must be an int >= 1'),
    (dict(img=np.zeros((4, 4, 3), np.uint8), tile=16, overlap=-1), 'overlap must be'),
    (dict(img=np.zeros((4, 4, 3), np.uint8), channel_order='rgba'), 'channel_order'),
])
def test_invalid_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        restore_image(init_restorer('T'), **kwargs)


def test_not_an_image_raises():
    with pytest.raises(TypeError, match='a path or an'):
        restore_image(init_restorer('T'), [[1, 2, 3]])


def test_an_unreadable_file_is_named(tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not a picture')
    with pytest.raises(ImageFileError, match=f'{bad}: '):
        restore_image(init_restorer('T'), bad)


# ------------------------------------------------------------------------------ Restorer
def test_restorer_tiles_only_large_pictures_and_says_so(restorer):
    notes = []
    run = Restorer(restorer, auto_tile=60, note=notes.append)
    assert run.device == torch.device('cpu') and run.align == restorer.multiple
    assert run.tile_for(50, 60) == 0 and run.tile_for(50, 61) == 512
    small, medium, large = _rgb(40, 60), _rgb(40, 70), _rgb(24, 530)
    np.testing.assert_array_equal(run(small), restore_image(restorer, small))
    np.testing.assert_array_equal(run(medium), restore_image(restorer, medium))  # < a tile
    assert notes == []
    np.testing.assert_array_equal(run(large, 'large.png'),
                                  restore_image(restorer, large, tile=512))
    assert notes == ['large.png: 530x24 > --auto-tile 60: restoring in 512-px tiles']


def test_restorer_fixed_tiles_match_tiled_forward(restorer):
    img = _rgb(45, 70)
    out = Restorer(restorer, tile=32, overlap=64, border=0)(img)  # clamped to max_overlap
    x = torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        ref = tiled_forward(restorer.fuse(), x, 32, max_overlap(32, restorer.multiple),
                            align=restorer.multiple)
    ref = np.round(ref[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255)
    np.testing.assert_array_equal(out, ref)


def test_restorer_mirrors_the_margin_around_tiles_too(restorer):
    img = _rgb(45, 70)
    out = Restorer(restorer, tile=32, overlap=16, border=8)(img)
    x = torch.from_numpy(img.astype(np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        ref = bordered_forward(
            lambda t: tiled_forward(restorer.fuse(), t, 32, 16, align=restorer.multiple), x, 8)
    np.testing.assert_array_equal(out, np.round(ref[0].clamp(0, 1).permute(1, 2, 0) * 255))


@pytest.mark.parametrize('border', [-1, 2.0, True])
def test_restorer_refuses_a_bad_border(restorer, border):
    with pytest.raises(ValueError, match='border must be an int >= 0'):
        Restorer(restorer, border=border)


def test_restorer_runs_the_fused_form_unless_told_not_to(restorer):
    assert isinstance(Restorer(restorer).net, FusedUniRemovalNet)
    assert Restorer(restorer, fused=False).net is restorer
    other = nn.Conv2d(3, 3, 1)
    assert Restorer(other).net is other  # no fused form: run as it is
    img = _rgb(45, 70)
    fused, plain = restore_image(restorer, img), restore_image(restorer, img, fused=False)
    assert np.abs(fused.astype(int) - plain.astype(int)).max() <= 1  # float rounding


def test_a_nonfinite_output_raises():
    net = init_restorer('T')
    with torch.no_grad():
        net.tail.bias.fill_(float('nan'))
    with pytest.raises(RestorationError, match='NaN/Inf'):
        restore_image(net, _rgb(16, 16))
