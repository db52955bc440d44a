"""DAWN's split: calibration pool (numbers divisible by 3) and acceptance set (the rest)."""
from pathlib import Path

import pytest

from uniremoval_mm.datasets import UnpairedFolderDataset
from uniremoval_mm.datasets.realdata_splits import (SPLIT_NAMES, calibration_fold, dawn_number,
                                                    dawn_split_files, dawn_split_of, in_split,
                                                    split_names)
from ..helpers import write_random_photos

DAWN = Path(__file__).resolve().parents[2] / '../shared/realdata/detection/dawn_fog/images'


def test_the_rule_on_names():
    assert dawn_number('haze-012.jpg') == 12 and dawn_number(Path('a/mist-081.png')) == 81
    assert dawn_split_of('foggy-003.jpg') == 'calibration'
    assert dawn_split_of('foggy-004.jpg') == 'acceptance'
    assert calibration_fold('haze-018.jpg') == 'tune' and calibration_fold('haze-012') == 'fit'
    assert in_split('haze-018.jpg', 'dawn-calibration-tune')
    assert in_split('haze-018.jpg', 'calibration') and not in_split('haze-018', 'acceptance')
    with pytest.raises(ValueError, match='an acceptance photo has no calibration fold'):
        calibration_fold('haze-019.jpg')
    with pytest.raises(ValueError, match=r"IMG_1\.jpg: not a DAWN photo name"):
        dawn_split_of('IMG_1.jpg')
    with pytest.raises(ValueError, match='split must be one of'):
        in_split('haze-019.jpg', 'dawn-train')


def test_parts_are_disjoint_and_cover_made_up_names():
    names = [f'{kind}-{i:03d}.jpg' for kind in ('foggy', 'haze', 'mist') for i in range(1, 31)]
    parts = split_names(names)
    assert not set(parts['calibration']) & set(parts['acceptance'])
    assert sorted(parts['calibration'] + parts['acceptance']) == sorted(names)
    assert len(parts['calibration']) == 30


@pytest.mark.skipif(not DAWN.is_dir(), reason='../shared/realdata (DAWN) is not present')
def test_dawn_parts_are_disjoint_and_cover_all_300():
    files = {name: {p.name for p in dawn_split_files(DAWN, name)} for name in SPLIT_NAMES}
    calibration, acceptance = files['dawn-calibration'], files['dawn-acceptance']
    assert len(calibration) == 108 and len(acceptance) == 192
    assert not calibration & acceptance
    assert calibration | acceptance == {p.name for p in DAWN.glob('*.jpg')}
    assert len(calibration | acceptance) == 300
    fit, tune = files['dawn-calibration-fit'], files['dawn-calibration-tune']
    assert not fit & tune and fit | tune == calibration


def test_the_dataset_keeps_one_part(tmp_path):
    root = write_random_photos(tmp_path / 'photos', [(40, 50)] * 6)
    for i, p in enumerate(sorted(root.iterdir())):
        p.rename(root / f'haze-{i + 1:03d}.png')
    def names(split):  # noqa: E306
        ds = UnpairedFolderDataset(tmp_path, folders=dict(photos='haze'), split=split)
        return sorted(Path(ds.get_data_info(i)['img_path']).name for i in range(len(ds)))
    assert names('dawn-calibration') == ['haze-003.png', 'haze-006.png']
    assert names('dawn-acceptance') == ['haze-001.png', 'haze-002.png', 'haze-004.png',
                                        'haze-005.png']
    with pytest.raises(ValueError, match='split must be one of'):
        UnpairedFolderDataset(tmp_path, folders=dict(photos='haze'), split='train')
