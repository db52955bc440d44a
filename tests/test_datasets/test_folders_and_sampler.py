"""PairedFolderDataset, UnpairedFolderDataset and DegradationBalancedBatchSampler."""
from collections import Counter

import cv2
import numpy as np
import pytest
from mmengine.dataset import DefaultSampler, InfiniteSampler

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets import (DegradationBalancedBatchSampler, PairedFolderDataset,
                                    SyntheticPairedDataset, UnpairedFolderDataset)


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


# --- the sampler --------------------------------------------------------------------------
@pytest.fixture
def synthetic(tmp_path):
    for i in range(4):
        _img(tmp_path / f'{i}.png', value=i * 20)
    return SyntheticPairedDataset(str(tmp_path))  # 4 photos x 5 types = 20 items


def test_every_batch_mixes_every_type(synthetic):
    sampler = DegradationBalancedBatchSampler(InfiniteSampler(synthetic, seed=0), batch_size=7)
    it = iter(sampler)
    for _ in range(12):
        batch = next(it)
        kinds = Counter(synthetic.get_data_info(i)['degradation_type'] for i in batch)
        assert len(batch) == 7 and len(kinds) == 5
        assert max(kinds.values()) - min(kinds.values()) <= 1


def test_finite_epoch_uses_every_index_once(synthetic):
    sampler = DegradationBalancedBatchSampler(DefaultSampler(synthetic, seed=0), batch_size=5)
    batches = list(sampler)
    assert sorted(i for b in batches for i in b) == list(range(20))
    assert len(batches) == len(sampler) == 4
    assert all(len({synthetic.get_data_info(i)['degradation_type'] for i in b}) == 5
               for b in batches)


def test_batch_smaller_than_the_types_is_refused(synthetic):
    with pytest.raises(ValueError, match='cannot hold one sample of each'):
        DegradationBalancedBatchSampler(DefaultSampler(synthetic), batch_size=3)


def test_built_from_a_dataloader_config(synthetic):
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(dict(
        dataset=synthetic, sampler=dict(type='InfiniteSampler', seed=0),
        batch_sampler=dict(type='DegradationBalancedBatchSampler'), batch_size=5,
        num_workers=0, collate_fn=dict(type='pseudo_collate')))
    assert isinstance(loader.batch_sampler, DegradationBalancedBatchSampler)


def test_type_weights_set_the_shares_and_keep_every_type(synthetic):
    sampler = DegradationBalancedBatchSampler(InfiniteSampler(synthetic, seed=0), batch_size=10,
                                              type_weights=dict(rain=2))
    it = iter(sampler)
    total, n = Counter(), 31
    for b in range(1, n + 1):
        batch = next(it)
        kinds = Counter(synthetic.get_data_info(i)['degradation_type'] for i in batch)
        assert len(batch) == 10 and len(kinds) == 5
        total.update(kinds)
        # every running count within one sample of its target (rain 1/3, the others 1/6)
        for kind in kinds:
            share = 1 / 3 if kind == 'rain' else 1 / 6
            assert abs(total[kind] - b * 10 * share) < 1
    assert 3 <= kinds['rain'] <= 4
    # a new pass starts its count afresh: the same first batch shares
    again = Counter(synthetic.get_data_info(i)['degradation_type'] for i in next(iter(sampler)))
    first = DegradationBalancedBatchSampler(InfiniteSampler(synthetic, seed=0), batch_size=10,
                                            type_weights=dict(rain=2))
    assert again == Counter(synthetic.get_data_info(i)['degradation_type']
                            for i in next(iter(first)))


@pytest.mark.parametrize('weights, message', [
    (dict(rainy=2), "names \\['rainy'\\], not degradation types"),
    (dict(rain=0), 'finite and > 0'),
    (dict(rain=float('nan')), 'finite and > 0'),
    (dict(rain=20), 'every type needs at least one'),
])
def test_type_weights_errors_name_the_problem(synthetic, weights, message):
    with pytest.raises(ValueError, match=message):
        DegradationBalancedBatchSampler(DefaultSampler(synthetic), batch_size=10,
                                        type_weights=weights)


def test_type_weights_from_a_dataloader_config(synthetic):
    from mmengine.runner import Runner
    loader = Runner.build_dataloader(dict(
        dataset=synthetic, sampler=dict(type='InfiniteSampler', seed=0),
        batch_sampler=dict(type='DegradationBalancedBatchSampler',
                           type_weights=dict(noise=3, blur=3)),
        batch_size=9, num_workers=0, collate_fn=dict(type='pseudo_collate')))
    kinds = Counter(next(iter(loader))['degradation_type'])  # pseudo_collate: lists per key
    assert kinds == dict(noise=3, blur=3, haze=1, rain=1, mixed=1)
