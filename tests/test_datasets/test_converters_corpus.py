"""The bad-input corpus (tests/helpers.py) through the dataset converters.

voc2coco and make_degraded_coco: valid files processed correctly, every bad one reported
in one line naming the file and the problem, the run goes on, the exit code is 1 at the
end, and nothing existing is replaced without ``--overwrite``.
"""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets.converters import voc_to_coco
from uniremoval_mm.datasets.degrade_coco import RECORDS, make_degraded_coco
from uniremoval_mm.datasets.image_files import _orient, orient_box
from ..helpers import load_tool, make_unreadable, rgb, write_corpus

NOISE = dict(type='AddNoise', severity=2, seed=0)
VOC = '<annotation><filename>{name}</filename>{size}{objects}</annotation>'
SIZE = '<size><width>{w}</width><height>{h}</height><depth>3</depth></size>'
OBJ = ('<object><name>{cls}</name><difficult>0</difficult><bndbox><xmin>{x1}</xmin>'
       '<ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>')


@pytest.mark.parametrize('orientation', range(1, 9))
def test_orient_box_follows_the_pixels(orientation):
    """A box drawn on stored pixels lands where _orient (the decoder) puts them."""
    mask = np.zeros((7, 11), np.uint8)
    mask[2:5, 1:4] = 1  # x 1..4, y 2..5 as pixel edges
    shown = _orient(mask, orientation)
    ys, xs = np.nonzero(shown)
    expected = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
    assert orient_box((1, 2, 4, 5), 11, 7, orientation) == expected


# ----------------------------------------------------------------- make_degraded_coco
def _coco_over(folder: Path, sizes: dict) -> Path:
    images = [dict(id=i + 1, file_name=name, height=hw[0], width=hw[1])
              for i, (name, hw) in enumerate(sizes.items())]
    annotations = [dict(id=i + 1, image_id=i + 1, category_id=1, bbox=[0, 0, 1, 1], area=1,
                        iscrowd=0) for i in range(len(images))]
    ann = folder.parent / 'ann.json'
    ann.write_text(json.dumps(dict(images=images, annotations=annotations,
                                   categories=[dict(id=1, name='thing')])))
    return ann


@pytest.fixture
def corpus_coco(tmp_path, monkeypatch, huge_jpeg):
    img_dir = tmp_path / 'src' / 'images'
    kinds = write_corpus(img_dir)
    cv2.imwrite(str(img_dir / 'locked.png'), rgb(20, 20))
    make_unreadable(img_dir / 'locked.png', monkeypatch)
    (img_dir / huge_jpeg.name).symlink_to(huge_jpeg)
    sizes = {name: kind.shape or (10, 10) for name, kind in kinds.items()}
    sizes.update({'locked.png': (20, 20), huge_jpeg.name: (6000, 8000), 'missing.jpg': (5, 5)})
    cv2.imwrite(str(img_dir / 'wrong_size.png'), rgb(20, 30))
    sizes['wrong_size.png'] = (30, 20)
    return _coco_over(img_dir, sizes), img_dir, kinds


def test_make_degraded_coco_on_the_corpus(corpus_coco, tmp_path):
    ann, img_dir, kinds = corpus_coco
    report = make_degraded_coco(ann, img_dir, tmp_path / 'out', NOISE)
    failed = {Path(line.split(': ')[0]).name: line for line in report.failed}
    assert len(failed) == len(report.failed)  # one line per file
    for name, kind in kinds.items():
        if kind.valid:
            out = cv2.imread(str(tmp_path / 'out' / 'images' / name), cv2.IMREAD_UNCHANGED)
            # 3-channel 8-bit, as shown (EXIF applied), whatever the source was
            assert out.shape == (*kind.shape, 3) and out.dtype == np.uint8, name
        else:
            assert kind.problem in failed[name], name
    assert 'cannot read: Permission denied' in failed['locked.png']
    assert 'cannot read: No such file or directory' in failed['missing.jpg']
    assert 'too large: 8000x6000 = 48.0 MP is more than max_pixels=25000000' in failed[
        'huge_8000x6000.jpg']
    assert 'is 30x20 (as shown), the json says 20x30' in failed['wrong_size.png']
    out = json.loads(report.out_ann.read_text())
    assert sorted(i['file_name'] for i in out['images']) == sorted(
        n for n, k in kinds.items() if k.valid)
    assert report.written == sum(k.valid for k in kinds.values())
    # the grey source is degraded as RGB and written with three channels
    gray = cv2.imread(str(tmp_path / 'out' / 'images' / 'gray.png'), cv2.IMREAD_UNCHANGED)
    assert gray.shape[2] == 3 and np.abs(gray.astype(int) - rgb(25, 35)[..., :1]).mean() < 30


def _tool(name: str):
    return load_tool(f'dataset_converters/{name}.py')


def test_make_degraded_coco_cli_exit_code_and_no_overwrite(corpus_coco, tmp_path, capsys):
    """The tool's main() as the command line runs it (its subprocess run is in
    test_degrade_coco.py)."""
    ann, img_dir, kinds = corpus_coco
    out = tmp_path / 'out'
    (out / 'images').mkdir(parents=True)
    (out / 'images' / 'plain.jpg').write_bytes(b'precious')  # not made by this tool
    argv = [str(ann), str(img_dir), str(out), '--type', 'noise', '--severity', '2']
    main = _tool('make_degraded_coco').main
    assert main(argv) == 1
    stdout, stderr = capsys.readouterr()
    lines = [line for line in stderr.splitlines() if line.startswith('make_degraded_coco: ')]
    # the bad corpus files, the unreadable, missing, huge and wrong-size ones, and the
    # existing plain.jpg: one line each
    assert len(lines) == sum(not k.valid for k in kinds.values()) + 5
    assert any(f'{out / "images" / "plain.jpg"}: exists but is not in {RECORDS}' in line
               and '--overwrite' in line for line in lines)
    assert (out / 'images' / 'plain.jpg').read_bytes() == b'precious'
    valid = sum(k.valid for k in kinds.values())
    assert f'{valid - 1} degraded now, 0 kept from an earlier run, {len(lines)} failed' in stdout
    assert main(argv + ['--overwrite']) == 1
    assert cv2.imread(str(out / 'images' / 'plain.jpg')).shape == (40, 60, 3)
    assert f'{valid} degraded now' in capsys.readouterr().out


def test_make_degraded_coco_never_replaces_a_foreign_json(tmp_path):
    img_dir = tmp_path / 'src' / 'images'
    img_dir.mkdir(parents=True)
    cv2.imwrite(str(img_dir / 'a.png'), rgb(20, 30))
    ann = _coco_over(img_dir, {'a.png': (20, 30)})
    (tmp_path / 'out').mkdir()
    (tmp_path / 'out' / 'ann.json').write_text('{"mine": 1}')
    with pytest.raises(ValueError, match='ann.json exists and degradations.jsonl does not'):
        make_degraded_coco(ann, img_dir, tmp_path / 'out', NOISE)
    assert (tmp_path / 'out' / 'ann.json').read_text() == '{"mine": 1}'
    report = make_degraded_coco(ann, img_dir, tmp_path / 'out', NOISE, overwrite=True)
    assert report.written == 1 and report.failed == []


# ------------------------------------------------------------------------- voc2coco
def _xml(folder: Path, name: str, image: str, size=None, objects=()) -> None:
    body = ''.join(OBJ.format(cls=c, x1=a, y1=b, x2=x, y2=y) for c, (a, b, x, y) in objects)
    size_xml = SIZE.format(w=size[0], h=size[1]) if size else ''
    (folder / f'{name}.xml').write_text(VOC.format(name=image, size=size_xml, objects=body))


@pytest.fixture
def voc_corpus(tmp_path, monkeypatch):
    img_dir, xml_dir = tmp_path / 'img', tmp_path / 'xml'
    xml_dir.mkdir()
    kinds = write_corpus(img_dir)
    for name, kind in kinds.items():
        h, w = kind.shape or (10, 10)
        _xml(xml_dir, name.replace('.', '_'), name, (w, h),
             [('car', (1, 1, max(w, 2), max(h, 2)))])
    # the EXIF-rotated photo annotated on its stored pixels (60 wide, 40 high): a box at
    # the stored top-left corner is at the shown top-right one (orientation 6)
    _xml(xml_dir, 'exif_rotated_jpg', 'exif_rotated.jpg', (60, 40), [('car', (1, 1, 10, 20))])
    cv2.imwrite(str(img_dir / 'locked.png'), rgb(20, 20))
    make_unreadable(img_dir / 'locked.png', monkeypatch)
    _xml(xml_dir, 'locked', 'locked.png', (20, 20), [('car', (1, 1, 5, 5))])
    # bad annotations, on a good image each
    for i in range(8):
        cv2.imwrite(str(img_dir / f'ok{i}.png'), rgb(30, 40))
    (xml_dir / 'ok0.xml').write_text('<annotation><filename>ok0.png</filename><object>')
    _xml(xml_dir, 'ok1', 'ok1.png', (40, 30), [('car', (30, 20, 60, 50))])  # leaves: clipped
    _xml(xml_dir, 'ok2', 'ok2.png', (40, 30), [('unicorn', (1, 1, 5, 5))])
    _xml(xml_dir, 'ok3', 'ok3.png', None, [('car', (1, 1, 5, 5))])  # no <size>
    (xml_dir / 'ok4.xml').write_text(
        '<annotation><filename>ok4.png</filename><object><name>car</name></object>'
        + OBJ.format(cls='car', x1=1, y1=1, x2=5, y2=5) + '</annotation>')  # no <bndbox>
    _xml(xml_dir, 'ok5', 'ok5.png', (40, 30), [('car', ('ten', 1, 5, 5))])
    _xml(xml_dir, 'ok6', 'ok6.png', (40, 30), [('car', (9, 9, 5, 5))])  # degenerate
    _xml(xml_dir, 'ok6_again', 'ok6.png', (40, 30), [('car', (1, 1, 5, 5))])
    _xml(xml_dir, 'ok7', 'ok7.png', (99, 77), [('car', (1, 1, 5, 5))])  # wrong <size>
    _xml(xml_dir, 'gone', 'gone.png', (10, 10), [('car', (1, 1, 5, 5))])
    return xml_dir, img_dir, kinds


def test_voc2coco_on_the_corpus(voc_corpus):
    xml_dir, img_dir, kinds = voc_corpus
    coco, report = voc_to_coco(xml_dir, img_dir, classes=['car'])
    problems, notes = '\n'.join(report.problems), '\n'.join(report.notes)
    images = {i['file_name']: i for i in coco['images']}
    for name, kind in kinds.items():
        if kind.valid:
            assert (images[name]['height'], images[name]['width']) == kind.shape, name
        else:
            assert f'{name}: {kind.problem}' in problems, name
            assert name not in images
    for line in ('locked.png: cannot read: Permission denied',
                 'ok0.xml: unreadable annotation (ParseError',
                 'ok1.xml: box (29.0, 19.0, 60.0, 50.0) clipped to the 40x30 image',
                 "ok2.xml: class 'unicorn' is not in the class list",
                 'ok4.xml: object 1 (car): no <bndbox>; left out',
                 "ok5.xml: object 1 (car): <xmin> is 'ten', not a number; left out",
                 'ok6.xml: degenerate box',
                 'ok6_again.xml: ok6.png was already converted from ok6.xml: left out',
                 "gone.xml: image 'gone.png' not found"):
        assert line in problems
    for line in ('ok3.xml: no <size>: the image\'s 40x30 is used',
                 'ok7.xml: <size> says 99x77 but the image is 40x30',
                 'exif_rotated_jpg.xml: boxes turned by the EXIF orientation 6'):
        assert line in notes
    rotated = images['exif_rotated.jpg']
    box = next(a['bbox'] for a in coco['annotations'] if a['image_id'] == rotated['id'])
    assert box == [20.0, 0.0, 20.0, 10.0]  # stored x 0..10, y 0..20 -> shown x 20..40, y 0..10
    assert all(len(line.splitlines()) == 1 for line in report.problems + report.notes)


def test_voc2coco_quick_mode_misses_only_truncated_pixels(voc_corpus):
    xml_dir, img_dir, kinds = voc_corpus
    _, report = voc_to_coco(xml_dir, img_dir, classes=['car'], check_images='header')
    problems = '\n'.join(report.problems)
    assert 'truncated.png' not in problems and 'empty.jpg: empty file' in problems
    with pytest.raises(ValueError, match='check_images'):
        voc_to_coco(xml_dir, img_dir, check_images='pixels')


def test_voc2coco_cli_reports_each_problem_in_one_line_and_exits_1(voc_corpus, tmp_path,
                                                                   capsys):
    """The tool's main() as the command line runs it (its subprocess run is in
    test_converters.py)."""
    xml_dir, img_dir, kinds = voc_corpus
    out = tmp_path / 'out.json'
    main = _tool('voc2coco').main
    assert main([str(xml_dir), str(img_dir), str(out), '--classes', 'car']) == 1
    assert out.is_file()
    stdout, stderr = capsys.readouterr()
    for kind in kinds.values():
        if not kind.valid:
            assert sum(kind.name in line and kind.problem in line
                       for line in stderr.splitlines()) == 1, kind.name
    assert 'voc2coco: note: ' in stdout and 'leaving something out' in stdout
    assert main([str(xml_dir), str(img_dir), str(out)]) == 2
    assert '--overwrite' in capsys.readouterr().err
