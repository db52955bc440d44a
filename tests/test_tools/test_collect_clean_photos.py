"""tools/dataset_converters/collect_clean_photos.py: the offline photo sources, the
held-out demo photos, and OpenCV's sample photos when asked for."""
import re
import subprocess
import sys

import cv2
import numpy as np

from ..conftest import REPO_ROOT

TOOL = 'tools/dataset_converters/collect_clean_photos.py'


def _run(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def test_opencv_samples_are_added_and_a_missing_one_is_named(tmp_path):
    samples, realdata = tmp_path / 'examples', tmp_path / 'no_realdata'
    samples.mkdir()
    proc = _run('--out', tmp_path / 'bad', '--realdata', realdata, '--opencv-samples', samples)
    assert proc.returncode != 0 and not (tmp_path / 'bad').exists()
    missing = re.search(r'missing (.*) \(expected', proc.stderr).group(1).split(', ')
    assert 'data/building.jpg' in missing and len(missing) > 20
    rng = np.random.default_rng(0)
    for name in missing:  # odd-sized colour photos in OpenCV's layout
        (samples / name).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(samples / name), rng.integers(0, 256, (37, 53, 3), np.uint8))
    out = tmp_path / 'photos'
    proc = _run('--out', out, '--realdata', realdata, '--opencv-samples', samples)
    assert proc.returncode == 0, proc.stderr[-2000:]
    listing = (out / 'SOURCES.txt').read_text().splitlines()
    names = {line.split()[0] for line in listing}
    assert len(names) == len(missing) + 6  # scikit-image's six colour photos
    assert 'opencv_data_building.png 53x37' in listing
    assert 'opencv_text_scenetext01.png' in names and 'skimage_astronaut.png' in names
    assert not any('coffee' in n or 'motorcycle' in n for n in names)  # demo photos held out
    assert cv2.imread(str(out / 'opencv_data_building.png')).shape == (37, 53, 3)
    assert 'up to date' in _run('--out', out, '--realdata', realdata, '--opencv-samples',
                                samples).stdout
