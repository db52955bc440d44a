"""make_degraded_coco: same boxes, records, resume, bad images, refusing the source."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets.degrade_coco import RECORDS, make_degraded_coco
from ..conftest import REPO_ROOT
from ..helpers import make_tiny_coco

HAZE = dict(type='AddHaze', severity=3, seed=0)


@pytest.fixture
def coco(tmp_path):
    ann = make_tiny_coco(tmp_path / 'src')
    return ann, tmp_path / 'src' / 'images'


def test_degraded_copy_keeps_annotations_and_records_parameters(coco, tmp_path):
    ann, img_dir = coco
    report = make_degraded_coco(ann, img_dir, tmp_path / 'foggy', HAZE)
    assert report.written == 4 and report.failed == []
    src, out = json.loads(ann.read_text()), json.loads(report.out_ann.read_text())
    assert out['annotations'] == src['annotations']
    for info in out['images']:
        assert info['degradations'][0]['type'] == 'haze'
        clean = cv2.imread(str(img_dir / info['file_name']))
        foggy = cv2.imread(str(tmp_path / 'foggy' / 'images' / info['file_name']))
        assert foggy.shape == clean.shape and not np.array_equal(foggy, clean)
    records = (tmp_path / 'foggy' / RECORDS).read_text().splitlines()
    assert len(records) == 4


def test_an_interrupted_run_resumes_without_redoing_work(coco, tmp_path):
    ann, img_dir = coco
    out = tmp_path / 'foggy'
    make_degraded_coco(ann, img_dir, out, HAZE)
    first = out / 'images' / 'img_000.png'
    stamp = first.stat().st_mtime_ns
    (out / 'images' / 'img_003.png').unlink()  # as if the run had stopped before it
    lines = (out / RECORDS).read_text().splitlines()
    (out / RECORDS).write_text('\n'.join(lines[:3]) + '\n')
    report = make_degraded_coco(ann, img_dir, out, HAZE)
    assert (report.resumed, report.written) == (3, 1)
    assert first.stat().st_mtime_ns == stamp
    assert len(json.loads(report.out_ann.read_text())['images']) == 4


def test_a_different_degradation_into_the_same_folder_is_refused(coco, tmp_path):
    ann, img_dir = coco
    make_degraded_coco(ann, img_dir, tmp_path / 'out', HAZE)
    with pytest.raises(ValueError, match='use another out_dir'):
        make_degraded_coco(ann, img_dir, tmp_path / 'out', dict(type='AddRain', seed=0))


def test_bad_images_are_reported_and_left_out(coco, tmp_path):
    ann, img_dir = coco
    (img_dir / 'img_001.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    report = make_degraded_coco(ann, img_dir, tmp_path / 'out', HAZE)
    assert report.failed == [
        f'{img_dir / "img_001.png"}: corrupt or truncated PNG image (Truncated File Read)']
    out = json.loads(report.out_ann.read_text())
    assert [i['file_name'] for i in out['images']] == ['img_000.png', 'img_002.png',
                                                       'img_003.png']
    assert {a['image_id'] for a in out['annotations']} == {i['id'] for i in out['images']}


def test_refuses_to_write_into_the_source(coco):
    ann, img_dir = coco
    with pytest.raises(ValueError, match='refusing to write into'):
        make_degraded_coco(ann, img_dir, img_dir / 'foggy', HAZE)
    with pytest.raises(ValueError, match='refusing'):
        make_degraded_coco(ann, img_dir, ann.parent, HAZE)


def test_cli_and_mmdet_loads_the_result(coco, tmp_path):
    ann, img_dir = coco
    out = tmp_path / 'rainy'
    proc = subprocess.run([sys.executable, 'tools/dataset_converters/make_degraded_coco.py',
                           str(ann), str(img_dir), str(out), '--type', 'mixed', '--seed', '1'],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from mmdet.datasets import CocoDataset
    ds = CocoDataset(ann_file=str(out / 'ann.json'), data_prefix=dict(img=str(out / 'images')),
                     metainfo=dict(classes=('box', 'disk')), pipeline=[], test_mode=True)
    assert len(ds) == 4
    assert sum(len(ds.get_data_info(i)['instances']) for i in range(4)) == 8
