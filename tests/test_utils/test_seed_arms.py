import pytest

from uniremoval_mm.utils.seed_arms import arm_of, group_arms, mean_sd, paired_differences


def test_arm_of_splits_the_seed_and_keeps_seedless_names_whole():
    assert arm_of('detaware s12') == ('detaware', '12')
    assert arm_of('joint restorer s0') == ('joint restorer', '0')
    assert arm_of('a s1 s2') == ('a s1', '2')  # only the last word is a seed
    assert arm_of('released') == ('released', None)
    assert arm_of('s3') == ('s3', None)  # a seed needs an arm before it
    assert arm_of('it400') == ('it400', None)


def test_group_arms_keeps_the_order_given():
    arms = group_arms(['kd s1', 'released', 'gt s0', 'kd s0'])
    assert list(arms) == ['kd', 'released', 'gt']
    assert arms['kd'] == {'1': 'kd s1', '0': 'kd s0'} and list(arms['kd']) == ['1', '0']
    assert arms['released'] == {None: 'released'}


@pytest.mark.parametrize('values, digits, text', [
    ([], 3, ''),
    ([0.81234], 3, '0.812'),
    ([12.0, 13.0], 2, '12.50 ± 0.71'),  # sample sd: sqrt(0.5)
    ([0.70, 0.72, 0.68], 3, '0.700 ± 0.020'),
])
def test_mean_sd_formats_none_one_and_many(values, digits, text):
    assert mean_sd(values, digits) == text


def test_paired_differences_pair_by_seed_and_a_fixed_model_with_every_seed():
    kd, gt = {'0': 12.5, '1': 14.5, '7': 99.0}, {'1': 13.0, '0': 12.0}
    assert paired_differences(kd, gt) == [0.5, 1.5]  # seed 7 has no partner; kd's order
    assert paired_differences(gt, kd) == [-1.5, -0.5]  # gt's order: seeds 1, 0
    fixed = {None: 10.0}
    assert paired_differences(kd, fixed) == [2.5, 4.5, 89.0]
    assert paired_differences(fixed, gt) == [-3.0, -2.0]
    assert paired_differences({}, gt) == [] and paired_differences(kd, {}) == []
    # a seedless run beside seeded ones of the same arm is no fixed model: pairs by key
    mixed = {None: 1.0, '0': 2.0}
    assert paired_differences(mixed, {None: 0.5, '0': 0.0}) == [0.5, 2.0]
    assert paired_differences(mixed, gt) == [-10.0]
