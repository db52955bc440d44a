"""tools/dataset_converters/prepare_allinone.py on tiny fake sources made here.

Every sub-command converts a source laid out as the official archive is (a few 17x23
images), and the result is read back with ``PairedFolderDataset``. Also: a second run
writes nothing, ``--out`` inside ``--src`` is refused, a corrupt source file is named
in one line, the noise is reproducible per sigma, the download resumes.
"""
import hashlib
import http.server
import io
import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from uniremoval_mm.datasets import PairedFolderDataset
from ..helpers import load_tool

H, W = 17, 23


tool = load_tool('dataset_converters/prepare_allinone.py')


def _img(path: Path, seed: int, gray: bool = False, fmt: str = None) -> Path:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (H, W) if gray else (H, W, 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, format=fmt or {'.jpg': 'JPEG', '.bmp': 'BMP'}.get(
        path.suffix.lower(), 'PNG'))
    return path


def _pairs(lq_dir: Path, gt_dir: Path, names, lq_ext='.png', gt_ext='.png', seed=0):
    for k, (lq, gt) in enumerate(names):
        _img(lq_dir / f'{lq}{lq_ext}', seed + 2 * k)
        _img(gt_dir / f'{gt}{gt_ext}', seed + 2 * k + 1)


def _xml(path: Path, filename: str, objects) -> None:
    body = ''.join(f'<object><name>{n}</name><difficult>0</difficult><bndbox><xmin>{b[0]}'
                   f'</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax><ymax>{b[3]}</ymax>'
                   '</bndbox></object>' for n, b in objects)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'<annotation><filename>{filename}</filename><size><width>{W}</width>'
                    f'<height>{H}</height><depth>3</depth></size>{body}</annotation>')


# Each maker builds a fake source under ``root`` and returns (src, extra args,
# {set folder: (number of pairs, match rule)}; a count of clean-only images for gt-only).
def make_bsd400(root):
    for k in range(3):
        _img(root / 'DnCNN-master/data/Train400' / f'test_{k:03d}.png', k, gray=True)
    return root / 'DnCNN-master', [], {'bsd400/train': (3, None)}


def make_wed(root):
    for k in range(2):
        _img(root / 'exploration_database_and_code/pristine_images' / f'{k:05d}.bmp', k)
    return root, [], {'wed/train': (2, None)}


def make_bsd68(root):
    for k in range(2):
        _img(root / 'CBSD68/original_png' / f'{k}.png', k)
        _img(root / 'CBSD68/noisy15' / f'{k}.png', 10 + k)  # the repo's own noisy copies
    return root, ['--variant', 'both'], {
        f'{p}-sigma{s}/test': (2, 'same') for p in ('cbsd68', 'bsd68') for s in (15, 25, 50)}


def make_rain100l(root):
    base = root / 'Rain100L'
    for k in (1, 2, 3):
        _img(base / f'rain-{k:03d}.png', k)
        _img(base / f'norain-{k:03d}.png', 10 + k)
    return base, [], {'rain100l/test': (3, 'same')}


def make_rain13k(root):
    _pairs(root / 'train/Rain13K/input', root / 'train/Rain13K/target',
           [('1', '1'), ('2', '2')], '.jpg', '.jpg')
    return root, [], {'rain13k/train': (2, 'same')}


def make_reside_ots(root):
    """An archive, as downloaded: hazy/part1..2 + clear/clear_images."""
    folder = root / 'build'
    _img(folder / 'OTS/hazy/part1/0001_0.8_0.2.jpg', 1)
    _img(folder / 'OTS/hazy/part1/0001_0.85_0.04.jpg', 2)
    _img(folder / 'OTS/hazy/part2/0002_0.9_0.16.jpg', 3)
    _img(folder / 'OTS/clear/clear_images/0001.jpg', 4)
    _img(folder / 'OTS/clear/clear_images/0002.jpg', 5)
    archive = root / 'OTS.zip'
    with zipfile.ZipFile(archive, 'w') as zf:
        for path in sorted(folder.rglob('*.jpg')):
            zf.write(path, path.relative_to(folder))
    return archive, [], {'reside-ots/train': (3, 'reside')}


def make_sots_outdoor(root):
    _pairs(root / 'SOTS/outdoor/hazy', root / 'SOTS/outdoor/gt',
           [('0001_0.8_0.2', '0001'), ('0002_1_0.08', '0002')], '.jpg', '.png')
    _pairs(root / 'SOTS/indoor/hazy', root / 'SOTS/indoor/gt', [('1400_1', '1400')])
    return root, [], {'sots-outdoor/test': (2, 'reside')}


def make_gopro(root):
    for split, seqs in (('train', ('GOPR0372_07_00', 'GOPR0374_11_00')),
                        ('test', ('GOPR0384_11_00', ))):
        for seq in seqs:
            base = root / 'GOPRO_Large' / split / seq
            _pairs(base / 'blur', base / 'sharp', [('000047', '000047'), ('000048', '000048')])
            _img(base / 'blur_gamma/000047.png', 99)
    return root, [], {'gopro/train': (4, 'same'), 'gopro/test': (2, 'same')}


def make_lol(root):
    _pairs(root / 'LOLdataset/our485/low', root / 'LOLdataset/our485/high',
           [('2', '2'), ('5', '5')])
    _pairs(root / 'LOLdataset/eval15/low', root / 'LOLdataset/eval15/high', [('1', '1')])
    return root, [], {'lol/train': (2, 'same'), 'lol/test': (1, 'same')}


def make_sidd(root):
    import scipy.io
    scene = root / 'SIDD_Medium_Srgb/Data/0001_001_S6_00100_00060_3200_L'
    for k in ('010', '011'):
        _img(scene / f'0001_NOISY_SRGB_{k}.PNG', int(k))
        _img(scene / f'0001_GT_SRGB_{k}.PNG', 50 + int(k))
    rng = np.random.default_rng(0)
    for key in ('ValidationNoisyBlocksSrgb', 'ValidationGtBlocksSrgb'):
        scipy.io.savemat(str(root / f'{key}.mat'),
                         {key: rng.integers(0, 256, (2, 3, 8, 8, 3), dtype=np.uint8)})
    return root, [], {'sidd/train': (2, 'same'), 'sidd/val': (6, 'same')}


def make_rtts(root):
    base = root / 'RTTS'
    for k, objects in enumerate(([('person', (2, 3, 10, 12)), ('bus', (1, 1, 20, 15))],
                                 [('car', (5, 5, 9, 9)), ('motorcycle', (3, 2, 8, 16))])):
        _img(base / f'JPEGImages/AM_Bing_{k}.png', k)
        _xml(base / f'Annotations/AM_Bing_{k}.xml', f'AM_Bing_{k}.png', objects)
    return root, [], {}


MAKERS = {'bsd400': make_bsd400, 'wed': make_wed, 'bsd68': make_bsd68,
          'rain100l': make_rain100l, 'rain13k': make_rain13k, 'reside-ots': make_reside_ots,
          'sots-outdoor': make_sots_outdoor, 'gopro': make_gopro, 'lol': make_lol,
          'sidd': make_sidd, 'rtts': make_rtts}


def _run(dataset, src, out, extra=(), capsys=None):
    rc = tool.main([dataset, '--src', str(src), '--out', str(out), '--no-progress', *extra])
    captured = capsys.readouterr() if capsys is not None else None
    return rc, captured


def _snapshot(out: Path) -> dict:
    return {str(p.relative_to(out)): (p.stat().st_mtime_ns, p.stat().st_ino)
            for p in out.rglob('*') if p.is_file()}


def test_every_sub_command_has_help_and_a_maker(capsys):
    assert set(MAKERS) == set(tool.DATASETS)
    for name in tool.DATASETS:
        with pytest.raises(SystemExit) as e:
            tool.main([name, '--help'])
        assert e.value.code == 0
        text = capsys.readouterr().out
        assert '--src' in text and '--out' in text and '--sha256' in text
        assert ('--download' in text) == (name in ('bsd400', 'bsd68', 'wed', 'gopro'))


@pytest.mark.parametrize('dataset', sorted(MAKERS))
def test_converts_to_the_documented_layout_and_resumes(dataset, tmp_path, capsys):
    src, extra, expected = MAKERS[dataset](tmp_path / 'src')
    before = {p: p.read_bytes() for p in (tmp_path / 'src').rglob('*') if p.is_file()}
    out = tmp_path / 'out'
    rc, cap = _run(dataset, src, out, extra, capsys)
    assert rc == 0, cap.err
    for rel, (count, match) in expected.items():
        if match is None:  # clean only
            files = sorted((out / rel / 'gt').iterdir())
            assert len(files) == count and not (out / rel / 'lq').exists()
            continue
        lq = sorted(p.stem for p in (out / rel / 'lq').iterdir())
        assert len(lq) == count, (rel, lq)
        ds = PairedFolderDataset(data_root=str(out / rel), match=match, check_files='decode')
        assert len(ds) == count
        if match == 'same':  # identical stems on both sides
            assert lq == sorted(p.stem for p in (out / rel / 'gt').iterdir())
    # the source is untouched
    assert before == {p: p.read_bytes() for p in (tmp_path / 'src').rglob('*') if p.is_file()}
    # a second run writes nothing
    snapshot = _snapshot(out)
    rc, cap = _run(dataset, src, out, extra, capsys)
    assert rc == 0 and ' 0 file(s) written' in cap.out, cap.out
    assert _snapshot(out) == snapshot


def test_resume_redoes_a_damaged_or_missing_output(tmp_path, capsys):
    src, _, _ = make_rain100l(tmp_path / 'src')
    out = tmp_path / 'out'
    assert _run('rain100l', src, out, capsys=capsys)[0] == 0
    damaged = out / 'rain100l/test/lq/001.png'
    good = damaged.read_bytes()
    damaged.write_bytes(good[:40])
    (out / 'rain100l/test/gt/002.png').unlink()
    rc, cap = _run('rain100l', src, out, capsys=capsys)
    assert rc == 0 and '2 file(s) written, 4 kept' in cap.out
    assert damaged.read_bytes() == good


def test_copies_are_byte_exact_and_other_formats_become_png(tmp_path, capsys):
    src, _, _ = make_rain13k(tmp_path / 'src')
    assert _run('rain13k', src, tmp_path / 'out', capsys=capsys)[0] == 0
    assert (tmp_path / 'out/rain13k/train/lq/1.jpg').read_bytes() == \
        (tmp_path / 'src/train/Rain13K/input/1.jpg').read_bytes()
    src, _, _ = make_wed(tmp_path / 'wsrc')
    assert _run('wed', src, tmp_path / 'wout', capsys=capsys)[0] == 0
    png = tmp_path / 'wout/wed/train/gt/00000.png'
    bmp = tmp_path / 'wsrc/exploration_database_and_code/pristine_images/00000.bmp'
    np.testing.assert_array_equal(np.asarray(Image.open(png)), np.asarray(Image.open(bmp)))


def test_bsd68_noise_is_fixed_per_sigma_and_image(tmp_path, capsys):
    src, _, _ = make_bsd68(tmp_path / 'src')
    for out in ('a', 'b'):
        assert _run('bsd68', src, tmp_path / out, ['--variant', 'both'], capsys)[0] == 0
    clean = np.asarray(Image.open(tmp_path / 'src/CBSD68/original_png/0.png')).astype(float)
    residuals = {}
    for sigma in (15, 25, 50):
        a = tmp_path / f'a/cbsd68-sigma{sigma}/test/lq/0.png'
        assert a.read_bytes() == (tmp_path / f'b/cbsd68-sigma{sigma}/test/lq/0.png').read_bytes()
        noisy = np.asarray(Image.open(a)).astype(float)
        inner = (clean > 60) & (clean < 195)  # away from clipping
        residuals[sigma] = (noisy - clean)[inner]
        assert abs(residuals[sigma].std() - sigma) < 0.2 * sigma
        # the documented seed reproduces the file
        expected = np.clip(np.round(clean + np.random.default_rng(
            [sigma, tool.zlib.crc32(b'0')]).standard_normal(clean.shape) * sigma), 0, 255)
        np.testing.assert_array_equal(noisy, expected)
        gray = np.asarray(Image.open(tmp_path / f'a/bsd68-sigma{sigma}/test/gt/0.png'))
        assert gray.ndim == 2
        np.testing.assert_array_equal(gray, tool.to_gray(clean.astype(np.uint8)))
    assert not np.array_equal(residuals[15] / 15, residuals[25] / 25)  # a seed per sigma


def test_rtts_coco_json_has_the_five_classes(tmp_path, capsys):
    src, _, _ = make_rtts(tmp_path / 'src')
    assert _run('rtts', src, tmp_path / 'out', capsys=capsys)[0] == 0
    coco = json.loads((tmp_path / 'out/rtts/test/rtts_coco.json').read_text())
    assert [c['name'] for c in coco['categories']] == \
        ['person', 'bicycle', 'car', 'motorcycle', 'bus']
    assert len(coco['images']) == 2 and len(coco['annotations']) == 4
    person = next(a for a in coco['annotations'] if a['category_id'] == 1)
    assert person['bbox'] == [1.0, 2.0, 9.0, 10.0]  # VOC 1-based (2, 3, 10, 12)
    for entry in coco['images']:
        assert (tmp_path / 'out/rtts/test/images' / entry['file_name']).is_file()


def test_refuses_to_write_into_the_source(tmp_path, capsys):
    src, _, _ = make_rain100l(tmp_path / 'src')
    before = sorted(p for p in src.rglob('*'))
    rc, cap = _run('rain100l', src, src / 'out', capsys=capsys)
    assert rc == 2 and 'refusing to write' in cap.err and len(cap.err.strip().splitlines()) == 1
    assert sorted(p for p in src.rglob('*')) == before
    rc, cap = _run('rain100l', src, src, capsys=capsys)
    assert rc == 2


@pytest.mark.parametrize('dataset', ['rain100l', 'gopro', 'rtts'])
def test_a_corrupt_source_file_is_named_in_one_line(dataset, tmp_path, capsys):
    src, extra, expected = MAKERS[dataset](tmp_path / 'src')
    victim = sorted(p for p in src.rglob('*.png') if 'norain' not in p.name)[0]
    victim.write_bytes(victim.read_bytes()[:60])  # truncated
    rc, cap = _run(dataset, src, tmp_path / 'out', extra, capsys)
    assert rc == 1
    lines = [line for line in cap.err.splitlines() if str(victim) in line]
    assert len(lines) == 1, cap.err
    written = [p for p in (tmp_path / 'out').rglob('*.png') if p.parent.name in ('lq', 'images')]
    assert len(written) == sum(n for n, _ in expected.values()) - 1 if expected else 1


def test_missing_layout_is_one_line(tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    rc, cap = _run('lol', tmp_path / 'empty', tmp_path / 'out', capsys=capsys)
    assert rc == 2 and len(cap.err.strip().splitlines()) == 1 and 'our485' in cap.err


def test_archive_checksum(tmp_path, capsys):
    archive, _, _ = make_reside_ots(tmp_path / 'src')
    rc, cap = _run('reside-ots', archive, tmp_path / 'out', ['--sha256', '0' * 64], capsys)
    assert rc == 2 and 'does not match' in cap.err
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    rc, cap = _run('reside-ots', archive, tmp_path / 'out',
                   ['--sha256', digest, '--remove-extracted'], capsys)
    assert rc == 0 and not (tmp_path / 'out/.extracted/OTS').exists()


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    payload = b''
    ranges = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        start = 0
        header = self.headers.get('Range')
        type(self).ranges.append(header)
        if header:
            start = int(header.split('=')[1].rstrip('-'))
            self.send_response(206)
        else:
            self.send_response(200)
        body = self.payload[start:]
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_download_resumes_a_part_file_and_checks_sha256(tmp_path, capsys):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w') as zf:
        zf.writestr('x.txt', 'y' * 5000)
    _RangeHandler.payload, _RangeHandler.ranges = buf.getvalue(), []
    server = http.server.HTTPServer(('127.0.0.1', 0), _RangeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f'http://127.0.0.1:{server.server_port}/data/OTS.zip'
        folder = tmp_path / 'downloads'
        folder.mkdir()
        (folder / 'OTS.zip.part').write_bytes(_RangeHandler.payload[:100])
        digest = hashlib.sha256(_RangeHandler.payload).hexdigest()
        path = tool.download(url, folder, digest, progress=False)
        assert path.read_bytes() == _RangeHandler.payload
        assert _RangeHandler.ranges == ['bytes=100-']
        assert tool.download(url, folder, digest, progress=False) == path  # not fetched again
        assert len(_RangeHandler.ranges) == 1
        path.unlink()
        with pytest.raises(tool.PrepareError, match='does not match'):
            tool.download(url, folder, '1' * 64, progress=False)
        assert not path.exists()
    finally:
        server.shutdown()
        server.server_close()
