"""PairedFolderDataset and UnpairedFolderDataset: pairing by name, kinds, file lists."""
from collections import Counter

import cv2
import numpy as np
import pytest

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets import PairedFolderDataset, UnpairedFolderDataset


def _img(path, value=0, size=(9, 11)):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((*size, 3), value, np.uint8))


@pytest.mark.parametrize('match, lq_names, gt_names, expected', [
    ('same', ['1.png', '2.jpg'], ['1.png', '2.png'], {'1': '1', '2': '2'}),
    ('reside', ['0001_0.8_0.2.jpg', '0001_0.9_0.1.jpg', '0002_1_0.1.png'],
     ['0001.png', '0002.png'], {'0001_0.8_0.2': '0001', '0001_0.9_0.1': '0001',
                                '0002_1_0.1': '0002'}),
    ('sidd', ['0_NOISY.png'], ['0_GT.png'], {'0_NOISY': '0_GT'}),
    (r'rain-(\d+)', ['rain-7.png'], ['7.png'], {'rain-7': '7'}),
])
def test_pairs_are_matched_by_name(tmp_path, match, lq_names, gt_names, expected):
    for n in lq_names:
        _img(tmp_path / 'lq' / n)
    for n in gt_names:
        _img(tmp_path / 'gt' / n)
    ds = PairedFolderDataset(str(tmp_path), match=match, degradation_type='x')
    pairs = {ds.get_data_info(i)['key']: ds.get_data_info(i)['gt_path']
             for i in range(len(ds))}
    assert {k: v.split('/')[-1].rsplit('.', 1)[0] for k, v in pairs.items()} == expected
    assert ds.get_data_info(0)['degradation_type'] == 'x'


def test_unmatched_files_raise_or_are_listed(tmp_path):
    _img(tmp_path / 'lq' / 'a.png')
    _img(tmp_path / 'lq' / 'orphan.png')
    _img(tmp_path / 'gt' / 'a.png')
    with pytest.raises(FileNotFoundError, match="orphan.png: no clean partner"):
        PairedFolderDataset(str(tmp_path))
    ds = PairedFolderDataset(str(tmp_path), strict=False)
    assert len(ds) == 1 and ds.unmatched[0].endswith('orphan.png')
    with pytest.raises(ValueError, match='exactly one group'):
        PairedFolderDataset(str(tmp_path), match=r'\d+')


def test_unpaired_folders_by_kind(tmp_path):
    _img(tmp_path / 'hazy' / 'a.jpg')
    _img(tmp_path / 'hazy' / 'deep' / 'b.png')
    _img(tmp_path / 'rainy' / 'c.png')
    _img(tmp_path / 'accept' / 'd.png')
    ds = UnpairedFolderDataset(str(tmp_path), folders=dict(hazy='haze', rainy='rain'))
    assert Counter(ds.get_data_info(i)['degradation_type'] for i in range(len(ds))) == \
        Counter(haze=2, rain=1)
    everything = UnpairedFolderDataset(str(tmp_path), exclude=['accept'])
    assert len(everything) == 3
    with pytest.raises(FileNotFoundError, match='no images'):
        UnpairedFolderDataset(str(tmp_path), folders=['accept'], exclude=['accept'])
    # candidates: the first existing root wins (real photos when present, else the demo)
    chosen = UnpairedFolderDataset([str(tmp_path / 'absent'), str(tmp_path)],
                                   folders=['rainy'])
    assert chosen.data_root == str(tmp_path) and len(chosen) == 1
    with pytest.raises(FileNotFoundError, match='none of .*absent'):
        UnpairedFolderDataset([str(tmp_path / 'absent')])
    # a named kind missing from the chosen root: an error naming it, or skipped on request
    with pytest.raises(FileNotFoundError, match='mixed: not a directory'):
        UnpairedFolderDataset(str(tmp_path), folders=dict(hazy='haze', mixed='mixed'))
    some = UnpairedFolderDataset(str(tmp_path), folders=dict(hazy='haze', mixed='mixed'),
                                 skip_missing=True)
    assert {some.get_data_info(i)['degradation_type'] for i in range(len(some))} == {'haze'}


def test_unpaired_file_lists_split_by_file(tmp_path):
    for name in ('a.png', 'b.jpg', 'c.png'):
        _img(tmp_path / 'hazy' / name)
    _img(tmp_path / 'clean' / 'd.png')
    _img(tmp_path / 'clean' / 'empty.png')
    (tmp_path / 'clean' / 'empty.png').write_bytes(b'')  # unusable: skipped and reported
    test = dict(hazy=['b.jpg'], clean=['empty.png'])
    held_out = UnpairedFolderDataset(str(tmp_path), files=test)
    assert [held_out.get_data_info(i)['key'] for i in range(len(held_out))] == ['hazy/b']
    assert [line.split(': ')[0].split('/')[-1] for line in held_out.skipped] == ['empty.png']
    train = UnpairedFolderDataset(str(tmp_path), exclude_files=dict(test, rainy=['x.png']))
    assert sorted(train.get_data_info(i)['key'] for i in range(len(train))) == [
        'clean/d', 'hazy/a', 'hazy/c'] and not train.skipped
    only_hazy = UnpairedFolderDataset(str(tmp_path), files=dict(hazy=['a.png']),
                                      folders=['hazy', 'clean'])  # clean/ not listed: whole
    assert sorted(only_hazy.get_data_info(i)['key'] for i in range(len(only_hazy))) == [
        'clean/d', 'hazy/a']
    with pytest.raises(FileNotFoundError, match=r"\['gone.png'\] are listed"):
        UnpairedFolderDataset(str(tmp_path), files=dict(hazy=['a.png', 'gone.png']))
    with pytest.raises(FileNotFoundError, match='no images'):
        UnpairedFolderDataset(str(tmp_path), folders=['hazy'],
                              exclude_files=dict(hazy=['a.png', 'b.jpg', 'c.png']))
    with pytest.raises(TypeError, match='list of file names'):
        UnpairedFolderDataset(str(tmp_path), files=dict(hazy='a.png'))


# --- real benchmark pairs and photos ------------------------------------------------------
def test_real_sots_and_rain100l_pairs(realdata):
    sots = PairedFolderDataset(str(realdata / 'pairs/sots_outdoor'), lq_dir='hazy',
                               gt_dir='clear', match='reside', degradation_type='haze')
    assert [sots.get_data_info(i)['gt_path'].split('/')[-1] for i in range(2)] == \
        ['0001.png', '0002.png']
    rain = PairedFolderDataset(str(realdata / 'pairs/rain100l'), lq_dir='rainy',
                               gt_dir='clean', degradation_type='rain')
    assert len(rain) == 2


def test_real_unpaired_folders(realdata):
    ds = UnpairedFolderDataset(str(realdata / 'unpaired'), exclude=['clean'])
    counts = Counter(ds.get_data_info(i)['degradation_type'] for i in range(len(ds)))
    assert counts == Counter(hazy=22, mixed=17, blurry=4, rainy=2, noisy=1)
    for i in range(len(ds)):  # every file decodes, whatever its extension says
        assert cv2.imread(ds.get_data_info(i)['img_path']) is not None
