"""tools/restore.py on a corpus of good and bad inputs, made here; one run as a user runs it.

Most cases use a fresh UniRemovalNet-T, which is the identity (zero-initialised tail):
what comes out must then equal what went in, so formats, orientation, alpha and bit
depth are checked pixel for pixel.
"""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from uniremoval_mm.models import UniRemovalNetT
from uniremoval_mm.utils.errors import UsageError
from ..conftest import REPO_ROOT
from ..helpers import (load_tool, make_unreadable, pil_bytes, rgb, truncated_jpeg, truncated_png,
                       write_corpus)

restore_tool = load_tool('restore.py')


def _save_checkpoint(path: Path, scale: float = 0.0, nan: bool = False) -> str:
    """A stage-1-style checkpoint (``generator.`` keys next to a teacher's)."""
    torch.manual_seed(0)
    net = UniRemovalNetT()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * scale)
        if nan:
            net.tail.bias.fill_(float('nan'))
    state = {f'generator.{k}': v for k, v in net.state_dict().items()}
    state['teachers.haze.model.w'] = torch.zeros(1)
    torch.save(dict(meta=dict(iter=1), state_dict=state), path)
    return str(path)


@pytest.fixture(scope='module')
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp('restorer')
    config = root / 'student_t.py'
    config.write_text("model = dict(type='UniRemovalNetT')\n")
    return dict(config=str(config), identity=_save_checkpoint(root / 'identity.pth'),
                perturbed=_save_checkpoint(root / 'perturbed.pth', scale=0.05),
                nan=_save_checkpoint(root / 'nan.pth', nan=True))


_rgb, _pil_bytes = rgb, pil_bytes


def _run(capsys, model, *args, ckpt='identity'):
    code = restore_tool.main([model['config'], model[ckpt], *map(str, args), '--no-progress'])
    out, err = capsys.readouterr()
    return code, out, err


def _failure(err: str, name: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith('FAILED') and name in line]
    assert len(lines) == 1, err
    return lines[0]


def _read(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


# --------------------------------------------------------------------- bad files
@pytest.mark.parametrize('name, content, problem', [
    ('empty.jpg', b'', 'empty file (0 bytes)'),
    ('truncated.jpg', 'jpeg_half', 'corrupt or truncated JPEG'),
    ('truncated.png', 'png_head', 'corrupt or truncated PNG'),
    ('notes.jpg', b'this is text, not a picture\n' * 4, 'not an image'),
])
def test_bad_file_is_reported_in_one_line(tmp_path, capsys, model, name, content, problem):
    content = dict(jpeg_half=truncated_jpeg(), png_head=truncated_png()).get(content, content)
    src = tmp_path / name
    src.write_bytes(content)
    code, out, err = _run(capsys, model, src, tmp_path / 'out')
    assert code == 1
    assert problem in _failure(err, name)
    assert '0 restored, 1 failed' in out
    assert not (tmp_path / 'out' / name).exists()


def test_the_whole_corpus_in_one_batch(tmp_path, capsys, model, monkeypatch):
    """Every kind of the bad-input corpus (tests/helpers.py): good ones restored (by the
    identity network: their shape kept), each bad one one FAILED line naming it and its
    problem."""
    kinds = write_corpus(tmp_path / 'in')
    make_unreadable(tmp_path / 'in' / 'plain.jpg', monkeypatch)
    code, out, err = _run(capsys, model, tmp_path / 'in', tmp_path / 'out', '--tile', '64')
    bad = [k for k in kinds.values() if not k.valid]
    assert code == 1
    assert f'{len(kinds) - 1 - len(bad)} restored, {len(bad) + 1} failed, 0 skipped' in out
    for kind in bad:
        assert kind.problem in _failure(err, kind.name)
    assert 'cannot read: Permission denied' in _failure(err, 'plain.jpg')
    for kind in kinds.values():
        if kind.valid and kind.name != 'plain.jpg':
            written = next((tmp_path / 'out').glob(Path(kind.name).stem + '.*'))
            assert _read(written).shape[:2] == kind.shape, kind.name
    assert not any(p.name.endswith('.part') for p in (tmp_path / 'out').iterdir())


def test_unreadable_file(tmp_path, capsys, model, monkeypatch):
    src = tmp_path / 'locked.png'
    cv2.imwrite(str(src), _rgb(20, 30))
    make_unreadable(src, monkeypatch)
    code, _, err = _run(capsys, model, src, tmp_path / 'out')
    assert code == 1
    assert 'cannot read: Permission denied' in _failure(err, 'locked.png')


def test_nonfinite_output_is_a_failure_and_not_written(tmp_path, capsys, model):
    src = tmp_path / 'ok.png'
    cv2.imwrite(str(src), _rgb(20, 30))
    code, _, err = _run(capsys, model, src, tmp_path / 'out', ckpt='nan')
    assert code == 1
    assert 'NaN/Inf' in _failure(err, 'ok.png')
    assert not (tmp_path / 'out').exists() or not any((tmp_path / 'out').iterdir())


def test_a_crash_while_writing_leaves_no_file(tmp_path, capsys, model, monkeypatch):
    src = tmp_path / 'ok.png'
    cv2.imwrite(str(src), _rgb(20, 30))

    def crash(fd):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', crash)
    code, _, err = _run(capsys, model, src, tmp_path / 'out')
    assert code == 1 and 'No space left on device' in _failure(err, 'ok.png')
    assert list((tmp_path / 'out').iterdir()) == []  # neither the file nor a .part


def test_folder_with_good_and_bad_files(tmp_path, capsys, model):
    src = tmp_path / 'in'
    (src / 'sub').mkdir(parents=True)
    cv2.imwrite(str(src / 'a.png'), _rgb(30, 40))
    cv2.imwrite(str(src / 'sub' / 'b.jpg'), _rgb(31, 41))
    (src / 'c.jpg').write_bytes(b'')
    (src / 'd.png').write_bytes(b'not a png')
    (src / 'README.txt').write_text('ignored: neither an image name nor image content')
    code, out, err = _run(capsys, model, src, tmp_path / 'out', '--recursive')
    assert code == 1
    assert '2 restored, 2 failed, 0 skipped' in out
    _failure(err, 'c.jpg'), _failure(err, 'd.png')
    assert _read(tmp_path / 'out' / 'a.png').shape == (30, 40, 3)
    assert _read(tmp_path / 'out' / 'sub' / 'b.jpg').shape == (31, 41, 3)
    assert sorted(p.name for p in (tmp_path / 'out').rglob('*')) == ['a.png', 'b.jpg', 'sub']


def test_empty_folder_and_missing_input_are_usage_errors(tmp_path, capsys, model):
    (tmp_path / 'empty').mkdir()
    with pytest.raises(UsageError, match='no image files in folder .*empty'):
        _run(capsys, model, tmp_path / 'empty', tmp_path / 'out')
    with pytest.raises(UsageError, match='input not found: .*nowhere.jpg'):
        _run(capsys, model, tmp_path / 'nowhere.jpg', tmp_path / 'out')
    with pytest.raises(UsageError, match='no image files match'):
        _run(capsys, model, tmp_path / '*.tif', tmp_path / 'out')


def test_existing_output_is_never_overwritten_without_overwrite(tmp_path, capsys, model):
    src = tmp_path / 'a.png'
    cv2.imwrite(str(src), _rgb(20, 30))
    out = tmp_path / 'out'
    out.mkdir()
    (out / 'a.png').write_bytes(b'precious')
    code, stdout, _ = _run(capsys, model, src, out)
    assert code == 0 and (out / 'a.png').read_bytes() == b'precious'
    assert f'skipped {src}: {out / "a.png"} exists (pass --overwrite' in stdout
    assert '0 restored, 0 failed, 1 skipped' in stdout
    code, stdout, _ = _run(capsys, model, src, out, '--overwrite')
    assert code == 0 and _read(out / 'a.png').shape == (20, 30, 3)


def test_broken_video(tmp_path, capsys, model):
    src = tmp_path / 'clip.mp4'
    src.write_bytes(b'\x00\x00\x00\x18ftypmp42' + os.urandom(2000))
    code, out, err = _run(capsys, model, src, tmp_path / 'out')
    assert code == 1
    assert 'cannot decode a frame' in _failure(err, 'clip.mp4')
    assert not (tmp_path / 'out' / 'clip.mp4').exists()


# -------------------------------------------------------------- formats, restored
def test_jpeg_named_png_is_decoded_by_content(tmp_path, capsys, model):
    src = tmp_path / 'photo.png'
    src.write_bytes(_pil_bytes(Image.fromarray(_rgb(40, 60)), 'JPEG'))
    code, _, _ = _run(capsys, model, src, tmp_path / 'out')
    dst = tmp_path / 'out' / 'photo.png'
    assert code == 0 and dst.read_bytes()[:4] == b'\x89PNG'  # written as its name says
    assert _read(dst).shape == (40, 60, 3)


def test_grayscale_stays_grayscale(tmp_path, capsys, model):
    gray = _rgb(25, 35)[..., 0]
    cv2.imwrite(str(tmp_path / 'g.png'), gray)
    assert _run(capsys, model, tmp_path / 'g.png', tmp_path / 'out')[0] == 0
    np.testing.assert_array_equal(_read(tmp_path / 'out' / 'g.png'), gray)


def test_rgba_keeps_its_alpha(tmp_path, capsys, model):
    rgba = np.dstack([_rgb(25, 35), np.arange(25 * 35, dtype=np.uint8).reshape(25, 35)])
    cv2.imwrite(str(tmp_path / 'a.png'), rgba)
    assert _run(capsys, model, tmp_path / 'a.png', tmp_path / 'out')[0] == 0
    np.testing.assert_array_equal(_read(tmp_path / 'out' / 'a.png'), rgba)


def test_palette_png_with_and_without_transparency(tmp_path, capsys, model):
    pal = Image.fromarray(_rgb(30, 20)).convert('P')
    pal.save(tmp_path / 'p.png')
    pal.save(tmp_path / 't.png', transparency=0)
    assert _run(capsys, model, tmp_path, tmp_path / 'out')[0] == 0
    np.testing.assert_array_equal(_read(tmp_path / 'out' / 'p.png')[..., ::-1],
                                  np.asarray(pal.convert('RGB')))
    assert _read(tmp_path / 'out' / 't.png').shape == (30, 20, 4)


def test_16bit_png_stays_16bit(tmp_path, capsys, model):
    wide = _rgb(20, 30).astype(np.uint16) * 257 + 3
    cv2.imwrite(str(tmp_path / 'w.png'), wide)
    assert _run(capsys, model, tmp_path / 'w.png', tmp_path / 'out')[0] == 0
    out = _read(tmp_path / 'out' / 'w.png')
    assert out.dtype == np.uint16 and out.shape == (20, 30, 3)
    assert np.abs(out.astype(int) - wide).max() <= 1


def test_cmyk_jpeg_becomes_rgb(tmp_path, capsys, model):
    rgb = _rgb(40, 60)
    (tmp_path / 'c.jpg').write_bytes(_pil_bytes(Image.fromarray(rgb).convert('CMYK'), 'JPEG'))
    assert _run(capsys, model, tmp_path / 'c.jpg', tmp_path / 'out')[0] == 0
    out = _read(tmp_path / 'out' / 'c.jpg')[..., ::-1]
    assert out.shape == (40, 60, 3) and np.abs(out.astype(int) - rgb).mean() < 12


def test_exif_orientation_is_applied(tmp_path, capsys, model):
    stored = _rgb(40, 60)  # landscape as stored; orientation 6: display rotated 90 cw
    exif = Image.Exif()
    exif[0x0112] = 6
    (tmp_path / 'r.jpg').write_bytes(_pil_bytes(Image.fromarray(stored), 'JPEG', exif=exif,
                                                quality=98))
    assert _run(capsys, model, tmp_path / 'r.jpg', tmp_path / 'out')[0] == 0
    out = _read(tmp_path / 'out' / 'r.jpg')[..., ::-1]
    assert out.shape == (60, 40, 3)
    assert np.abs(out.astype(int) - np.rot90(stored, -1)).mean() < 4


@pytest.mark.parametrize('h, w', [(1, 1), (3, 1000)])
def test_tiny_and_thin_images(tmp_path, capsys, model, h, w):
    img = _rgb(h, w)
    cv2.imwrite(str(tmp_path / 'x.png'), img)
    assert _run(capsys, model, tmp_path / 'x.png', tmp_path / 'out', '--tile', '64')[0] == 0
    np.testing.assert_array_equal(_read(tmp_path / 'out' / 'x.png'), img)


def test_large_image_is_auto_tiled(tmp_path, capsys, model):
    """A stand-in for huge photos (4000x3000 is measured by tiling_memory.py)."""
    img = _rgb(300, 1100)
    cv2.imwrite(str(tmp_path / 'big.png'), img)
    code, out, _ = _run(capsys, model, tmp_path / 'big.png', tmp_path / 'out',
                        '--auto-tile', '1000', ckpt='perturbed')
    assert code == 0 and 'big.png: 1100x300 > --auto-tile 1000: restoring in 512-px tiles' in out
    restored = _read(tmp_path / 'out' / 'big.png')
    assert restored.shape == img.shape and np.abs(restored.astype(int) - img).mean() > 3


def test_side_by_side_glob_and_collisions(tmp_path, capsys, model):
    src = tmp_path / 'in'
    src.mkdir()
    cv2.imwrite(str(src / 'x.png'), _rgb(20, 30))
    Image.fromarray(_rgb(20, 30, seed=1)).save(src / 'x.gif')  # OpenCV writes no GIF: x.png
    code, out, err = _run(capsys, model, f'{src}/x.*', tmp_path / 'out', '--side-by-side')
    assert code == 1 and 'already written for' in _failure(err, 'x.png')
    assert _read(tmp_path / 'out' / 'x.png').shape == (20, 60, 3)


def test_perturbed_student_changes_the_picture(tmp_path, capsys, model):
    img = _rgb(33, 47)
    cv2.imwrite(str(tmp_path / 'x.png'), img)
    assert _run(capsys, model, tmp_path / 'x.png', tmp_path / 'out', ckpt='perturbed')[0] == 0
    assert np.abs(_read(tmp_path / 'out' / 'x.png').astype(int) - img).mean() > 3


def test_video_is_restored_frame_by_frame(tmp_path, capsys, model):
    src = tmp_path / 'clip.avi'
    writer = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*'MJPG'), 10, (48, 32))
    for i in range(5):
        writer.write(_rgb(32, 48, seed=i % 3))
    writer.release()
    code, out, _ = _run(capsys, model, src, tmp_path / 'out' / 'restored.mp4', '--side-by-side')
    assert code == 0 and '5 frames' in out
    cap = cv2.VideoCapture(str(tmp_path / 'out' / 'restored.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 5
    assert (int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))) \
        == (96, 32)
    cap.release()


def test_detector_before_and_after(tmp_path, capsys, model):
    cv2.imwrite(str(tmp_path / 'x.jpg'), _rgb(64, 80))
    code, out, _ = _run(capsys, model, tmp_path / 'x.jpg', tmp_path / 'out', '--det-config',
                        REPO_ROOT / 'configs/detection/rtmdet-tiny_demo-shapes.py',
                        '--device', 'cpu', '--score-thr', '0.0')
    assert code == 0 and 'boxes before' in out
    assert _read(tmp_path / 'out' / 'x.jpg').shape == (64, 160, 3)


@pytest.mark.parametrize('args, match', [
    (['--tile', '100'], 'must be a multiple of 8'),
    (['--tile', '64', '--tile-overlap', '64'], r'^--tile-overlap \(64\) must be at most 32 for '
     r'--tile 64: half a tile$'),
    (['--tile', '64', '--tile-overlap', '33'], r'must be at most 32 for --tile 64'),
    (['--tile', '8', '--tile-overlap', '4'], r'^--tile-overlap \(4\) must be at most 0 for '
     r'--tile 8: half a tile, and --tile - align \(8 - 8\)$'),
])
def test_invalid_tiling_is_a_usage_error(tmp_path, capsys, model, args, match):
    cv2.imwrite(str(tmp_path / 'x.png'), _rgb(20, 30))
    with pytest.raises(UsageError, match=match):
        _run(capsys, model, tmp_path / 'x.png', tmp_path / 'out', *args)


def test_usage_error_is_one_line_with_exit_code_2(tmp_path, capsys, model):
    code = restore_tool.cli([model['config'], model['identity'], str(tmp_path / 'missing'),
                             str(tmp_path / 'out')])
    err = capsys.readouterr().err
    assert code == 2 and err.count('\n') == 1
    assert err.strip().endswith(f'error: input not found: {tmp_path / "missing"}')


def test_command_line_exit_code_for_a_bad_file(tmp_path, model):
    """As a user runs it: a bad file is one line on stderr and exit code 1."""
    (tmp_path / 'bad.jpg').write_bytes(b'')
    proc = subprocess.run([sys.executable, 'tools/restore.py', model['config'], model['identity'],
                           str(tmp_path / 'bad.jpg'), str(tmp_path / 'out')],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1
    assert f'FAILED {tmp_path / "bad.jpg"}: empty file (0 bytes)' in proc.stderr
    assert '0 restored, 1 failed, 0 skipped' in proc.stdout
