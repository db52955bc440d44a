"""VOC -> COCO conversion and box lists: made edge cases, and the real DAWN / RTTS files."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

from uniremoval_mm.datasets.converters import fix_box, parse_box_list, voc_to_coco
from ..conftest import REPO_ROOT

VOC = '''<annotation><filename>{name}</filename>
<size><width>{w}</width><height>{h}</height><depth>3</depth></size>{objects}</annotation>'''
OBJ = ('<object><name>{cls}</name><difficult>{d}</difficult><bndbox><xmin>{x1}</xmin>'
       '<ymin>{y1}</ymin><xmax>{x2}</xmax><ymax>{y2}</ymax></bndbox></object>')


def _voc(root, name, w, h, boxes, write_image=True, size_in_xml=True):
    (root / 'xml').mkdir(exist_ok=True)
    (root / 'img').mkdir(exist_ok=True)
    objects = ''.join(OBJ.format(cls=c, d=d, x1=a, y1=b, x2=x, y2=y) for c, d, (a, b, x, y)
                      in boxes)
    ww, hh = (w, h) if size_in_xml else (0, 0)
    (root / 'xml' / f'{name}.xml').write_text(VOC.format(name=f'{name}.jpg', w=ww, h=hh,
                                                         objects=objects))
    if write_image:
        cv2.imwrite(str(root / 'img' / f'{name}.jpg'), np.zeros((h, w, 3), np.uint8))


@pytest.fixture
def voc(tmp_path):
    _voc(tmp_path, 'a', 100, 60, [('car', 0, (11, 21, 50, 40)), ('person', 1, (1, 1, 10, 10))])
    _voc(tmp_path, 'b', 80, 50, [('car', 0, (70, 30, 95, 49)), ('bus', 0, (200, 5, 220, 9))],
         size_in_xml=False)
    _voc(tmp_path, 'c', 30, 30, [('car', 0, (1, 1, 5, 5))], write_image=False)
    (tmp_path / 'xml' / 'd.xml').write_text('<annotation><size>')  # truncated XML
    return tmp_path


def test_voc_to_coco_converts_and_reports_every_problem(voc):
    coco, report = voc_to_coco(voc / 'xml', voc / 'img', classes=['person', 'car'])
    assert [i['file_name'] for i in coco['images']] == ['a.jpg', 'b.jpg']
    assert coco['images'][1]['width'] == 80  # read from the image: the XML had 0
    car = next(a for a in coco['annotations'] if a['image_id'] == 1 and a['category_id'] == 2)
    assert car['bbox'] == [10.0, 20.0, 40.0, 20.0]  # 1-based inclusive -> 0-based [x,y,w,h]
    person = next(a for a in coco['annotations'] if a['category_id'] == 1)
    assert person['iscrowd'] == 1  # difficult: ignored by COCO evaluation
    clipped = next(a for a in coco['annotations'] if a['image_id'] == 2)
    assert clipped['bbox'] == [69.0, 29.0, 11.0, 20.0]  # x2 95 -> 80 (the width); y inside
    text = '\n'.join(report.problems)
    assert 'd.xml: unreadable annotation' in text
    assert "c.xml: image 'c.jpg' not found" in text
    assert "b.xml: class 'bus' is not in the class list" in text
    assert 'b.xml: box (69.0, 29.0, 95.0, 49.0) clipped' in text
    assert report.images == 2 and report.boxes == 3


@pytest.mark.parametrize('policy, expected', [
    ('clip', ([0.0, 5.0, 10.0, 20.0], 'clipped')),
    ('drop', (None, 'dropped')),
    ('keep', ([-5.0, 5.0, 10.0, 25.0], 'leaves')),
])
def test_box_policies(policy, expected):
    box, note = fix_box((-5, 5, 10, 25), 40, 20, policy)
    assert box == expected[0] and expected[1] in note


def test_degenerate_and_unknown_policy():
    assert fix_box((5, 5, 5, 9), 10, 10, 'clip')[0] is None
    with pytest.raises(ValueError, match='box_policy'):
        voc_to_coco('x', 'y', box_policy='shrink')


def test_cli_refuses_overwrite_and_writing_into_the_source(voc, tmp_path):
    out = tmp_path / 'out.json'
    cmd = [sys.executable, 'tools/dataset_converters/voc2coco.py', str(voc / 'xml'),
           str(voc / 'img')]
    first = subprocess.run(cmd + [str(out), '--classes', 'person', 'car'], cwd=REPO_ROOT,
                           capture_output=True, text=True)
    assert first.returncode == 1  # problems were met: skipped files make it non-zero
    assert 'd.xml: unreadable annotation' in first.stderr and out.is_file()
    again = subprocess.run(cmd + [str(out)], cwd=REPO_ROOT, capture_output=True, text=True)
    assert again.returncode == 2 and '--overwrite' in again.stderr
    inside = subprocess.run(cmd + [str(voc / 'img' / 'x.json')], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert inside.returncode == 2 and 'inside the source folder' in inside.stderr


def test_box_list_parsing_and_errors(tmp_path):
    path = tmp_path / 'boxes.txt'
    path.write_text('./d/x.png 1,2,3,4,0 5,6,7,8,4\n\n./d/y.png\n')
    boxes = parse_box_list(path)
    assert boxes == {'x.png': [([1.0, 2.0, 3.0, 4.0], 0), ([5.0, 6.0, 7.0, 8.0], 4)],
                     'y.png': []}
    path.write_text('./d/x.png 1,2,3,0\n')
    with pytest.raises(ValueError, match=r'boxes.txt:1: box'):
        parse_box_list(path)


# --- real data (../shared/realdata); skipped where it is absent ---------------------------
DAWN_COUNTS = dict(car=1570, truck=154, person=117, bus=71, motorcycle=23, bicycle=16)


def test_dawn_fog_converts_and_loads_in_mmdet(realdata, tmp_path):
    dawn = realdata / 'detection' / 'dawn_fog'
    coco, report = voc_to_coco(dawn / 'voc_xml', dawn / 'images', one_based=False)
    assert report.problems == []
    assert report.images == 300 and report.boxes == 1951
    assert dict(report.class_counts) == DAWN_COUNTS
    ann = tmp_path / 'dawn.json'
    ann.write_text(json.dumps(coco))
    from mmdet.datasets import CocoDataset
    classes = tuple(c['name'] for c in coco['categories'])
    ds = CocoDataset(ann_file=str(ann), data_prefix=dict(img=str(dawn / 'images')),
                     metainfo=dict(classes=classes), filter_cfg=dict(filter_empty_gt=False),
                     pipeline=[], test_mode=True)
    assert len(ds) == 300
    assert sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds))) == 1951
    empty = [ds.get_data_info(i) for i in range(len(ds))
             if ds.get_data_info(i)['img_path'].endswith('haze-012.jpg')]
    assert len(empty) == 1 and empty[0]['instances'] == []


def test_rtts_sample_boxes_parse(realdata):
    sample = realdata / 'detection' / 'rtts_sample'
    classes = sample.joinpath('classes.txt').read_text().split()
    assert classes == ['person', 'car', 'bus', 'bicycle', 'motorcycle']
    boxes = parse_box_list(sample / 'boxes.txt')
    assert sorted(boxes) == sorted(p.name for p in (sample / 'images').iterdir())
    assert sum(len(v) for v in boxes.values()) == 15
    for name, items in boxes.items():
        h, w = cv2.imread(str(sample / 'images' / name)).shape[:2]
        for (x1, y1, x2, y2), cls in items:
            assert 0 <= x1 < x2 <= w and 0 <= y1 < y2 <= h and 0 <= cls < len(classes)


@pytest.mark.parametrize('name, real', [('guogong.png', 'bmp'), ('test12.jpg', 'bmp'),
                                        ('test13.jpg', 'png')])
def test_unpaired_files_whose_extension_lies_still_decode(realdata, name, real):
    from uniremoval_mm.datasets import list_images, sniff_image_format
    path = realdata / 'unpaired' / 'hazy' / name
    assert sniff_image_format(path) == real
    assert path in list_images(path.parent)
    assert cv2.imread(str(path)) is not None
