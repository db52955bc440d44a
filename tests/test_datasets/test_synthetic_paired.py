"""SyntheticPairedDataset, AddTypedDegradation, content sniffing, the demo data builder."""
from collections import Counter

import cv2
import numpy as np
import pytest

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets import SyntheticPairedDataset, list_images, sniff_image_format
from ..helpers import load_tool

PIPELINE = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='AddTypedDegradation', seed=0, src_key='gt', dst_key='img'),
    dict(type='PackInputs', meta_keys=['degradation_type', 'degradations']),
]


@pytest.fixture(autouse=True)
def mmagic_scope():
    """Pipelines resolve in mmagic's scope, as a runner with default_scope='mmagic' sets."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield


@pytest.fixture
def photos(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / 'sub').mkdir()
    cv2.imwrite(str(tmp_path / 'a.png'), (rng.random((41, 37, 3)) * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / 'sub' / 'b.jpg'), (rng.random((30, 50, 3)) * 255).astype(np.uint8))
    # a PNG named .jpg (kept), a text file named .png (skipped), an empty file (skipped)
    ok, png = cv2.imencode('.png', np.zeros((9, 9, 3), np.uint8))
    (tmp_path / 'lies.jpg').write_bytes(png.tobytes())
    (tmp_path / 'notes.png').write_text('not an image')
    (tmp_path / 'empty.jpg').write_bytes(b'')
    return tmp_path


def test_images_are_found_by_content(photos):
    names = [p.name for p in list_images(photos)]
    assert names == ['a.png', 'lies.jpg', 'b.jpg']
    assert sniff_image_format(photos / 'lies.jpg') == 'png'
    assert sniff_image_format(photos / 'notes.png') == ''
    with pytest.raises(FileNotFoundError, match='not a directory'):
        list_images(photos / 'missing')


def test_every_photo_is_listed_under_every_type(photos):
    ds = SyntheticPairedDataset(data_root=str(photos), pipeline=PIPELINE)
    assert len(ds) == 3 * 5
    counts = Counter(ds.get_data_info(i)['degradation_type'] for i in range(len(ds)))
    assert set(counts.values()) == {3}


def test_items_pair_the_clean_photo_with_its_degradation(photos):
    ds = SyntheticPairedDataset(data_root=str(photos), degradation_types=['noise', 'haze'],
                                pipeline=PIPELINE)
    for i in range(len(ds)):
        item = ds[i]
        meta = item['data_samples'].metainfo
        assert meta['degradations'][0]['type'] == meta['degradation_type']
        gt = item['data_samples'].gt_img
        assert item['inputs'].shape == gt.shape
        assert not np.array_equal(item['inputs'].numpy(), gt.numpy())
    # seeded: the same item is the same pair twice
    np.testing.assert_array_equal(ds[0]['inputs'].numpy(), ds[0]['inputs'].numpy())


def test_mixed_items_hold_two_degradations(photos):
    ds = SyntheticPairedDataset(data_root=str(photos), degradation_types=['mixed'],
                                pipeline=PIPELINE)
    assert len(ds[0]['data_samples'].metainfo['degradations']) == 2


def test_empty_folder_and_unknown_type_are_clear_errors(tmp_path, photos):
    (tmp_path / 'void').mkdir()
    with pytest.raises(FileNotFoundError, match='void: no image files found'):
        SyntheticPairedDataset(data_root=str(tmp_path / 'void'))
    # a type the pipeline cannot make is found when the dataset is built, not at ds[0]
    with pytest.raises(ValueError, match=r"SyntheticPairedDataset.degradation_types: \['snow'\] "
                       'cannot be made'):
        SyntheticPairedDataset(data_root=str(photos), degradation_types=['snow'],
                               pipeline=PIPELINE)


def _builder():
    return load_tool('misc/build_demo_data.py')


def test_demo_data_builder_is_idempotent_and_refuses_foreign_folders(tmp_path):
    import json

    from uniremoval_mm.datasets import PairedFolderDataset, UnpairedFolderDataset
    build = _builder().build
    demo = tmp_path / 'demo'
    n = build(demo)
    assert n == len((demo / 'MANIFEST.txt').read_text().splitlines())
    assert len(list_images(demo / 'clean' / 'val')) == 6
    for kind in ('haze', 'rain', 'blur', 'noise', 'mixed'):
        pairs = PairedFolderDataset(str(demo / 'pairs' / kind), degradation_type=kind)
        assert len(pairs) == 6
    unpaired = UnpairedFolderDataset(str(demo / 'unpaired'), exclude=['clean'])
    assert len(unpaired) == 4 * 10
    det = json.loads((demo / 'detection' / 'train.json').read_text())
    assert len(det['images']) == 240 and len(det['annotations']) > 240
    for a in det['annotations']:  # boxes known by construction lie inside the image
        x, y, w, h = a['bbox']
        assert 0 <= x and 0 <= y and x + w <= 320 and y + h <= 240
    val = json.loads((demo / 'detection' / 'val.json').read_text())
    foggy = json.loads((demo / 'detection' / 'haze' / 'val.json').read_text())
    assert foggy['annotations'] == val['annotations']
    stamp = (demo / 'MANIFEST.txt').stat().st_mtime_ns
    assert build(demo) == 0  # second run: nothing written
    assert (demo / 'MANIFEST.txt').stat().st_mtime_ns == stamp
    (tmp_path / 'other' / 'clean').mkdir(parents=True)
    with pytest.raises(SystemExit, match='was not made by this tool'):
        build(tmp_path / 'other')


def test_more_detection_val_images_keep_train_and_the_first_val_images(tmp_path):
    """``--detection-val N`` extends the val split; what the default made stays the same."""
    import json

    import numpy as np
    builder = _builder()
    sets = {}
    for n_val in (2, 5):
        out = tmp_path / f'val{n_val}'
        builder.build_detection(out, np.random.default_rng(0), [], dict(train=4, val=n_val))
        sets[n_val] = out / 'detection'
    assert (json.loads((sets[2] / 'train.json').read_text())
            == json.loads((sets[5] / 'train.json').read_text()))
    for name in ('train_0003.png', 'val_0000.png', 'val_0001.png'):
        split = name.split('_')[0]
        assert (sets[2] / split / name).read_bytes() == (sets[5] / split / name).read_bytes()
    val5 = json.loads((sets[5] / 'val.json').read_text())
    assert [im['file_name'] for im in val5['images']] == [f'val_{i:04d}.png' for i in range(5)]
    val2 = json.loads((sets[2] / 'val.json').read_text())
    assert val5['annotations'][:len(val2['annotations'])] == val2['annotations']
    with pytest.raises(ValueError, match='--detection-val must be at least 1, got 0'):
        builder.build(tmp_path / 'none', detection_val=0)
    with pytest.raises(SystemExit):
        builder.main(['--out', str(tmp_path / 'none'), '--detection-val', '-3'])
    assert not (tmp_path / 'none').exists()


def test_mmagic_preprocessor_keeps_the_inputs_channel_order(photos):
    """The degraded ``img`` inherits gt's channel order, so mmagic does not swap it."""
    import torch
    from mmagic.models import DataPreprocessor
    ds = SyntheticPairedDataset(data_root=str(photos), degradation_types=['noise'],
                                pipeline=PIPELINE)
    item = ds[0]
    assert item['data_samples'].metainfo['img_channel_order'] == 'rgb'
    pre = DataPreprocessor(mean=[0.0] * 3, std=[255.0] * 3)
    out = pre(dict(inputs=[item['inputs']], data_samples=[item['data_samples']]))
    torch.testing.assert_close(out['inputs'][0], item['inputs'].float() / 255)
