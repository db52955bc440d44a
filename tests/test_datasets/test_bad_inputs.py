"""The bad-input corpus (tests/helpers.py) through the datasets and loading transforms.

Folders of user photos (SyntheticPairedDataset, UnpairedFolderDataset) skip and report
unusable files; a benchmark (PairedFolderDataset, strict) raises on the first one; the
loaders raise one line ``path: problem`` (or skip, when asked, while training).
"""
import json
import logging
import re

import cv2
import numpy as np
import pytest
from mmengine.dataset import Compose
from mmengine.logging import MMLogger
from mmengine.registry import TRANSFORMS

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets import (PairedFolderDataset, SyntheticPairedDataset,
                                    UnpairedFolderDataset)
from uniremoval_mm.datasets.image_files import ImageFileError, read_image, to_rgb8
from ..helpers import HUGE_SHAPE, make_tiny_coco, make_unreadable, rgb, truncated_jpeg, write_corpus

CROP = 16


@pytest.fixture(autouse=True)
def mmagic_scope():
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmagic'):
        yield


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp('corpus')
    return folder, write_corpus(folder)


def _train_pipeline(on_error='skip', crop=CROP):
    return [
        dict(type='LoadImageChecked', key='gt', channel_order='rgb', on_error=on_error),
        dict(type='Crop', keys=['gt'], crop_size=(crop, crop), random_crop=True),
        dict(type='AddTypedDegradation', seed=0, src_key='gt', dst_key='img'),
        dict(type='PackInputs', meta_keys=['degradation_type']),
    ]


def _load(path, **kwargs):
    load = TRANSFORMS.build(dict(type='LoadImageChecked', key='img', _scope_='mmagic', **kwargs))
    return load(dict(img_path=str(path)))


@pytest.fixture
def warnings_seen(monkeypatch):
    """The warning lines mmengine's current logger prints, captured."""
    seen = []
    logger = MMLogger.get_current_instance()
    real = logger.warning

    def record(msg, *args, **kwargs):
        seen.append(msg)
        return real(msg, *args, **kwargs)

    monkeypatch.setattr(logger, 'warning', record)
    monkeypatch.setattr(logger, 'log', lambda level, msg, *a, **k: seen.append(msg)
                        if level == logging.WARNING else None)
    return seen


# ---------------------------------------------------------------------- loaders
def test_loader_on_every_corpus_file(corpus):
    folder, kinds = corpus
    for name, kind in kinds.items():
        if kind.valid:
            out = _load(folder / name, channel_order='rgb')
            assert out['img'].shape == (*kind.shape, 3) and out['img'].dtype == np.uint8, name
        else:
            with pytest.raises(ImageFileError) as info:
                _load(folder / name)
            message = str(info.value)
            assert message.startswith(f'{folder / name}: ') and kind.problem in message, name
            assert '\n' not in message


def test_loader_pixels_match_mmagic_on_ordinary_files_and_convert_the_rest(corpus):
    folder, kinds = corpus
    plain = TRANSFORMS.build(dict(type='LoadImageFromFile', key='img', _scope_='mmagic'))
    for name in ('plain.jpg', 'gray.png', 'palette.png', 'exif_rotated.jpg'):
        ours = _load(folder / name)['img']
        theirs = plain(dict(img_path=str(folder / name)))['img']  # BGR, as ours by default
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
    # (the corpus wrote these two with OpenCV: the arrays are BGR, as the loader's default)
    deep = _load(folder / 'rgb16.png')['img']  # v * 257 + 3 rounded back to v
    np.testing.assert_array_equal(deep, rgb(20, 30))
    rgba = _load(folder / 'rgba.png')['img']  # alpha dropped
    np.testing.assert_array_equal(rgba, rgb(25, 35))
    gray = _load(folder / 'gray.png', color_type='grayscale')['img']
    assert gray.shape == (25, 35, 1)


def test_loader_skip_mode_warns_and_drops_the_sample(corpus, warnings_seen):
    folder, _ = corpus
    assert _load(folder / 'truncated.jpg', on_error='skip') is None
    assert any('LoadImageChecked: skipped' in w and 'truncated.jpg: corrupt or truncated JPEG'
               in w for w in warnings_seen)


def test_unreadable_file(tmp_path, monkeypatch):
    cv2.imwrite(str(tmp_path / 'locked.png'), rgb(20, 20))
    make_unreadable(tmp_path / 'locked.png', monkeypatch)
    with pytest.raises(ImageFileError, match='locked.png: cannot read: Permission denied'):
        _load(tmp_path / 'locked.png')


def test_huge_image_is_loaded_or_refused_before_decoding(huge_jpeg):
    assert _load(huge_jpeg)['img'].shape == (*HUGE_SHAPE, 3)
    with pytest.raises(ImageFileError, match=r'too large: 8000x6000 = 48.0 MP is more than '
                       'max_pixels=40000000'):
        _load(huge_jpeg, max_pixels=40_000_000)


@pytest.mark.parametrize('cfg, field', [
    (dict(on_error='ignore'), 'on_error'), (dict(color_type='unchanged'), 'color_type'),
    (dict(max_pixels=0), 'max_pixels'), (dict(channel_order='rbg'), 'channel_order')])
def test_loader_arguments_are_checked(cfg, field):
    with pytest.raises(ValueError, match=f'LoadImageChecked.{field}'):
        _load('x.png', **cfg)


# ------------------------------------------------------------- folder datasets
def test_synthetic_dataset_skips_and_reports_each_unusable_photo(corpus, warnings_seen):
    folder, kinds = corpus
    ds = SyntheticPairedDataset(data_root=str(folder), degradation_types=['noise'],
                                pipeline=_train_pipeline())
    skipped = {line.split(': ')[0].rsplit('/', 1)[-1]: line for line in ds.skipped}
    for name, kind in kinds.items():
        if not kind.valid and not kind.header_ok:
            assert kind.problem in skipped[name]
            assert any(f'SyntheticPairedDataset: skipped {skipped[name]}' == w
                       for w in warnings_seen)
    # smaller than the pipeline's crop: mmagic's Crop would make a batch that cannot stack
    assert 'tiny_1x1.png: 1x1 is smaller than the 16x16 (WxH) crop' in skipped['tiny_1x1.png']
    assert '1000x3 is smaller' in skipped['thin_3x1000.png']
    listed = {p.rsplit('/', 1)[-1] for p in (ds.get_data_info(i)['gt_path']
                                             for i in range(len(ds)))}
    assert listed == {n for n, k in kinds.items()
                      if (k.valid and min(k.shape) >= CROP) or k.header_ok}
    assert any(f'{len(ds.skipped)} of {len(ds.skipped) + len(listed)} files skipped' in w
               for w in warnings_seen)
    # every listed sample loads; a truncated file is replaced by another sample
    for i in range(len(ds)):
        assert tuple(ds[i]['inputs'].shape) == (3, CROP, CROP)


def test_synthetic_dataset_decode_check_finds_truncated_files(corpus):
    folder, kinds = corpus
    ds = SyntheticPairedDataset(data_root=str(folder), degradation_types=['noise'],
                                pipeline=_train_pipeline(), check_files='decode')
    text = '\n'.join(ds.skipped)
    assert 'truncated.jpg: corrupt or truncated JPEG' in text
    assert 'truncated.png: corrupt or truncated PNG' in text


def test_truncated_file_raises_one_line_in_a_raising_pipeline(tmp_path):
    (tmp_path / 'a.jpg').write_bytes(truncated_jpeg())
    ds = SyntheticPairedDataset(data_root=str(tmp_path), degradation_types=['noise'],
                                pipeline=_train_pipeline(on_error='raise'))
    with pytest.raises(ImageFileError, match=r'a.jpg: corrupt or truncated JPEG image \('):
        ds[0]


def test_empty_folder_and_all_bad_folder(tmp_path):
    (tmp_path / 'void').mkdir()
    with pytest.raises(FileNotFoundError, match='void: no image files found'):
        SyntheticPairedDataset(data_root=str(tmp_path / 'void'))
    (tmp_path / 'bad').mkdir()
    (tmp_path / 'bad' / 'x.jpg').write_bytes(b'')
    with pytest.raises(FileNotFoundError, match=r'1 skipped, e.g. .*x.jpg: empty file'):
        SyntheticPairedDataset(data_root=str(tmp_path / 'bad'))
    with pytest.raises(FileNotFoundError, match=r'void/a: not a directory'):
        UnpairedFolderDataset(data_root=str(tmp_path / 'void'), folders={'a': 'haze'})
    (tmp_path / 'void' / 'a').mkdir()
    with pytest.raises(FileNotFoundError, match=r"no images in \['a'\]"):
        UnpairedFolderDataset(data_root=str(tmp_path / 'void'), folders={'a': 'haze'})


@pytest.mark.parametrize('crop', [0, -8])
def test_impossible_crop_size_is_refused_when_built(tmp_path, crop):
    cv2.imwrite(str(tmp_path / 'a.png'), rgb(20, 20))
    with pytest.raises(ValueError, match=rf'pipeline Crop.crop_size=\({crop}, {crop}\) must '
                       'be two positive ints'):
        SyntheticPairedDataset(data_root=str(tmp_path), pipeline=_train_pipeline(crop=crop))


def test_crop_larger_than_every_image_is_a_clear_error(tmp_path):
    cv2.imwrite(str(tmp_path / 'a.png'), rgb(20, 30))
    with pytest.raises(FileNotFoundError, match=r'a.png: 30x20 is smaller than the 128x128'):
        SyntheticPairedDataset(data_root=str(tmp_path), pipeline=_train_pipeline(crop=128))


def test_dataset_arguments_are_checked(tmp_path):
    with pytest.raises(ValueError, match='SyntheticPairedDataset.check_files'):
        SyntheticPairedDataset(data_root=str(tmp_path), check_files='full')
    with pytest.raises(ValueError, match='UnpairedFolderDataset.max_pixels'):
        UnpairedFolderDataset(data_root=str(tmp_path), max_pixels=0)


def test_unpaired_dataset_skips_and_reports(tmp_path, monkeypatch, huge_jpeg):
    kinds = write_corpus(tmp_path / 'hazy')
    (tmp_path / 'clean').mkdir()
    (tmp_path / 'clean' / huge_jpeg.name).symlink_to(huge_jpeg)
    make_unreadable(tmp_path / 'hazy' / 'plain.jpg', monkeypatch)
    ds = UnpairedFolderDataset(data_root=str(tmp_path), max_pixels=20_000_000,
                               pipeline=[dict(type='LoadImageChecked', key='img')])
    text = '\n'.join(ds.skipped)
    assert 'plain.jpg: cannot read: Permission denied' in text
    assert 'huge_8000x6000.jpg: too large: 8000x6000' in text
    for name, kind in kinds.items():
        if not kind.valid and not kind.header_ok:
            assert f'{name}: {kind.problem}' in text
    types = {ds.get_data_info(i)['degradation_type'] for i in range(len(ds))}
    assert types == {'hazy'}  # nothing usable left in clean/
    # no crop in this pipeline: 1x1 and 3x1000 are usable and load
    names = [ds.get_data_info(i)['img_path'].rsplit('/', 1)[-1] for i in range(len(ds))]
    assert 'tiny_1x1.png' in names and 'thin_3x1000.png' in names
    assert ds[names.index('thin_3x1000.png')]['img'].shape == (3, 1000, 3)


def test_paired_benchmark_raises_on_the_first_bad_file_unless_not_strict(tmp_path):
    for sub in ('lq', 'gt'):
        (tmp_path / sub).mkdir()
        for i in range(3):
            cv2.imwrite(str(tmp_path / sub / f'{i}.png'), rgb(20, 24, seed=i))
    (tmp_path / 'gt' / '1.png').write_bytes(b'')
    (tmp_path / 'lq' / '2.png').write_text('text')
    with pytest.raises(ImageFileError) as info:
        PairedFolderDataset(data_root=str(tmp_path))
    message = str(info.value)
    assert '\n' not in message  # the degraded folder is checked first
    assert message.startswith(f'{tmp_path / "lq" / "2.png"}: not an image (unknown content)')
    assert 'set strict=False' in message
    ds = PairedFolderDataset(data_root=str(tmp_path), strict=False)
    assert [ds.get_data_info(i)['key'] for i in range(len(ds))] == ['0']
    assert len(ds.skipped) == 2 and ds.unmatched == []


# ----------------------------------------------------------------- detection path
def test_detection_loader_checks_files_and_annotated_sizes(tmp_path, corpus, warnings_seen):
    folder, kinds = corpus
    load = TRANSFORMS.build(dict(type='LoadDetImageChecked', _scope_='mmdet'))
    for name, kind in kinds.items():
        if kind.valid:
            out = load(dict(img_path=str(folder / name)))
            assert out['img'].shape == (*kind.shape, 3) and out['ori_shape'] == kind.shape
        else:
            with pytest.raises(ImageFileError, match=re.escape(kind.problem)):
                load(dict(img_path=str(folder / name)))
    # annotated as stored (60 wide, 40 high), shown rotated: every box would be wrong
    with pytest.raises(ImageFileError, match=r'exif_rotated.jpg: is 40x60, the annotation file '
                       r'says 60x40 \(width and height swapped'):
        load(dict(img_path=str(folder / 'exif_rotated.jpg'), height=40, width=60))
    skip = TRANSFORMS.build(dict(type='LoadDetImageChecked', ignore_empty=True, _scope_='mmdet'))
    assert skip(dict(img_path=str(folder / 'empty.jpg'))) is None
    assert any('LoadDetImageChecked: skipped' in w for w in warnings_seen)


def test_coco_dataset_with_a_bad_image(tmp_path):
    from mmdet.datasets import CocoDataset
    from mmengine.registry import DefaultScope
    ann = make_tiny_coco(tmp_path)
    (tmp_path / 'images' / 'img_001.png').write_bytes(truncated_jpeg())
    with DefaultScope.overwrite_default_scope('mmdet'):
        ds = CocoDataset(data_root=str(tmp_path), ann_file=ann.name,
                         data_prefix=dict(img='images/'), test_mode=True,
                         metainfo=dict(classes=('box', 'disk')),
                         pipeline=Compose([dict(type='LoadDetImageChecked')]).transforms)
        assert ds[0]['img'].shape == (96, 128, 3)
        with pytest.raises(ImageFileError, match=r'img_001.png: corrupt or truncated JPEG'):
            ds[1]
    assert json.loads(ann.read_text())['images'][1]['file_name'] == 'img_001.png'


def test_loaded_arrays_are_writable_for_in_place_transforms(corpus):
    folder, _ = corpus
    for order in ('rgb', 'bgr'):
        img = _load(folder / 'plain.jpg', channel_order=order)['img']
        assert img.flags.writeable and img.flags.c_contiguous
    flip = TRANSFORMS.build(dict(type='Flip', keys=['img'], flip_ratio=1.0, _scope_='mmagic'))
    out = flip(_load(folder / 'plain.jpg', channel_order='rgb'))
    np.testing.assert_array_equal(out['img'], to_rgb8(read_image(folder / 'plain.jpg'))[:, ::-1])
