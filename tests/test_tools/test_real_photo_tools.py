"""real_photo_table.py, fog_resemblance.py and calibrate.py on made-up photos."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from uniremoval_mm.apis.calibration import split_photos
from uniremoval_mm.utils.errors import UsageError
from ..helpers import load_tool, perturbed_student

RELEASED = Path(__file__).resolve().parents[2] / 'checkpoints/uniremoval-net-s_stage1-cpu.pth'


def _foggy_photos(root: Path, n: int, size=(150, 170), prefix='haze') -> Path:
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        img = cv2.GaussianBlur(rng.integers(0, 256, (*size, 3)).astype(np.uint8), (0, 0), 2)
        cv2.imwrite(str(root / f'{prefix}-{i + 1:03d}.png'), (img * 0.4 + 140).astype(np.uint8))
    return root


def _student(tmp_path: Path, seed: int) -> str:
    net = perturbed_student('T', seed=seed)
    path = tmp_path / f't{seed}.pth'
    torch.save(dict(state_dict=net.state_dict()), path)
    return str(path)


def test_real_photo_table_rows_arms_sheets_and_json(tmp_path, capsys):
    tool = load_tool('analysis_tools/real_photo_table.py')
    photos = _foggy_photos(tmp_path / 'dawn', 7, size=(61, 83))
    out = tmp_path / 'r.json'
    args = ['--folder', f'pool={photos}#dawn-calibration', '--folder', f'all={photos}',
            '--network', 'T', '--no-niqe', '--json', str(out), '--sheets',
            str(tmp_path / 'sheets'), '--reference', 'a', '--bar', '--results',
            str(tmp_path / 'res.json')]
    for name, seed in (('a s0', 0), ('a s1', 1), ('b s0', 2), ('b s1', 3)):
        args += ['--restorer', f'{name}={_student(tmp_path, seed)}']
    assert tool.main(args) == 0
    report = json.loads(out.read_text())
    rows = {r['label']: r for r in report['rows']}
    assert rows['pool / a s0']['metrics']['photos'] == 2  # haze-003, haze-006
    assert rows['all / b s1']['metrics']['photos'] == 7
    assert len(report['records']['all/a s0']) == 7 and 'bar' in rows['all / a s0']
    printed = capsys.readouterr().out
    assert '| all | b | 2 |' in printed and '| | b − a |' in printed
    assert 'median luma ratio >= 0.85' in printed
    assert len(list((tmp_path / 'sheets').glob('all_*.jpg'))) == 1
    assert set(report['restorers']['a s0']) == {'config', 'checkpoint', 'sha256'}
    from uniremoval_mm.utils.results import load_results
    results = load_results(tmp_path / 'res.json')
    row = {r['label']: r for r in results['rows']}['all / a s0']['metrics']
    assert row['bar/dark_share'] in ('pass', 'fail') and row['photos'] == 7
    assert len(results['checkpoints']) == 4


def test_real_photo_table_errors_name_the_argument(tmp_path):
    tool = load_tool('analysis_tools/real_photo_table.py')
    with pytest.raises(UsageError, match='--folder x: nowhere is not a folder'):
        tool.main(['--folder', 'x=nowhere', '--restorer', f'r={RELEASED}'])
    photos = _foggy_photos(tmp_path / 'p', 2)
    with pytest.raises(UsageError, match='--restorer r: missing.pth is not a file'):
        tool.main(['--folder', f'x={photos}', '--restorer', 'r=missing.pth'])
    with pytest.raises(UsageError, match='split must be one of'):
        tool.main(['--folder', f'x={photos}#train', '--restorer', f'r={RELEASED}'])
    with pytest.raises(UsageError, match=r"--only: x lacks \['haze-009'\]"):
        tool.main(['--folder', f'x={photos}', '--restorer', f'r={RELEASED}', '--only',
                   'haze-001,haze-009'])


def test_fog_resemblance_prints_every_set(tmp_path, capsys):
    tool = load_tool('analysis_tools/fog_resemblance.py')
    real = _foggy_photos(tmp_path / 'real', 3)
    clean = _foggy_photos(tmp_path / 'clean', 2, prefix='c')
    assert tool.main(['--real', str(real), '--clean', str(clean), '--crops', '4',
                      '--crop', '64', '--grid', str(tmp_path / 'g.png')]) == 0
    out = capsys.readouterr().out
    assert '| real |' in out and '| stage1 |' in out and '| outdoor |' in out
    assert cv2.imread(str(tmp_path / 'g.png')).shape[0] == 3 * 64


def test_split_is_by_name_and_refuses_a_small_folder(tmp_path):
    files = [tmp_path / f'p{i}.jpg' for i in range(30)]
    fit, held = split_photos(files)
    assert len(held) == 9 and len(fit) == 21 and not set(fit) & set(held)
    fit2, held2 = split_photos(files + [tmp_path / 'new.jpg'])
    assert set(held) - set(held2) == set() or len(set(held) & set(held2)) >= 8
    with pytest.raises(UsageError, match=r'19 usable photos; calibration needs at least 20'):
        split_photos(files[:19])


def test_calibrate_trains_writes_a_student_and_reports_before_and_after(tmp_path, capsys):
    tool = load_tool('calibrate.py')
    photos = _foggy_photos(tmp_path / 'fog', 20)
    clean = _foggy_photos(tmp_path / 'clean', 3, prefix='c')
    work = tmp_path / 'wd'
    assert tool.main([str(photos), '--clean', str(clean), '--work-dir', str(work),
                      '--iters', '1', '--checkpoint', str(RELEASED)]) == 0
    report = json.loads((work / 'calibration_report.json').read_text())
    assert len(report['held_out']) == 6 and len(report['fit']) == 14
    assert report['before']['photos'] == 6 and 'luma_ratio_median' in report['after']
    saved = torch.load(work / 'calibrated_student.pth', weights_only=True)
    assert all(not k.startswith(('reference.', 'discriminator.')) for k in saved['state_dict'])
    assert '| held out | after |' in capsys.readouterr().out
    with pytest.raises(UsageError, match='calibration needs at least 20'):
        tool.main([str(clean), '--clean', str(clean), '--work-dir', str(work)])
