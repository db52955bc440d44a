"""DegradationBalancedBatchSampler: every batch mixes every type, by weight if asked."""
from collections import Counter

import cv2
import numpy as np
import pytest
from mmengine.dataset import DefaultSampler, InfiniteSampler

import uniremoval_mm  # noqa: F401
from uniremoval_mm.datasets import DegradationBalancedBatchSampler, SyntheticPairedDataset


@pytest.fixture
def synthetic(tmp_path):
    for i in range(4):
        cv2.imwrite(str(tmp_path / f'{i}.png'), np.full((9, 11, 3), i * 20, np.uint8))
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
