"""tools/analysis_tools/stage2_table.py: arms over seeds from stage-2 test and pair files."""
import json

import pytest

from ..helpers import load_tool


@pytest.fixture()
def table():
    return load_tool('analysis_tools/stage2_table.py')


def _run(root, name, niqe_out, sots):
    work = root / name
    (work / 'test' / '20260101_000000').mkdir(parents=True)
    metrics = {'heldout/haze/NIQE_input': 4.0, 'heldout/haze/NIQE_stage1': 5.0,
               'heldout/haze/NIQE_output': niqe_out, 'heldout/NIQE_skipped': None,
               'dawn/NIQE_input': 6.0, 'dawn/NIQE_stage1': 6.5, 'dawn/NIQE_output': 6.4}
    (work / 'test' / '20260101_000000' / '20260101_000000.json').write_text(
        json.dumps(metrics))
    (work / 'pairs.json').write_text(json.dumps({
        'input': {'SOTS-outdoor': {'psnr': 18.0}},
        f'student {name}': {'SOTS-outdoor': {'psnr': sots}}}))
    return work


def test_arms_are_averaged_compared_with_stage1_and_paired_by_seed(table, tmp_path, capsys):
    runs = [('a s0', 4.9, 24.9), ('a s1', 4.7, 24.8), ('b s0', 4.6, 23.0), ('b s1', 4.8, 23.5)]
    args = []
    for name, niqe, sots in runs:
        args += ['--run', f'{name}={_run(tmp_path, name.replace(" ", "_"), niqe, sots)}']
    (tmp_path / 's1.json').write_text(json.dumps({'student s1': {'SOTS-outdoor': {'psnr': 25.0}}}))
    assert table.main(args + ['--stage1-pairs', str(tmp_path / 's1.json')]) == 0
    out = capsys.readouterr().out
    haze = next(line for line in out.splitlines() if line.startswith('| heldout/haze'))
    cells = [c.strip() for c in haze.strip('|').split('|')]
    # input, stage 1, a (mean ± sd), b, a − stage 1, b − stage 1, b − a paired
    assert cells[1:3] == ['4.00', '5.00']
    assert cells[3] == '4.80 ± 0.14' and cells[4] == '4.70 ± 0.14'
    assert cells[5] == '-0.20 ± 0.14 (2/2 better)'
    assert cells[7].startswith('-0.10 ± 0.28 (n=2)')
    sots = next(line for line in out.splitlines() if line.startswith('| SOTS-outdoor'))
    cells = [c.strip() for c in sots.strip('|').split('|')]
    assert cells[1:5] == ['18.00', '25.00', '24.85 ± 0.07', '23.25 ± 0.35']
    assert cells[5] == '-0.15 ± 0.07 (2/2 within 0.3)'
    assert cells[6] == '-1.75 ± 0.35 (0/2 within 0.3)'


def test_bad_runs_are_named(table, tmp_path, capsys):
    assert table.main(['--run', 'a=' + str(tmp_path)]) == 1
    assert 'expected "ARM sSEED=WORK_DIR"' in capsys.readouterr().err
    assert table.main(['--run', f'a s0={tmp_path}']) == 1
    assert f'{tmp_path}/test/*/*.json not found' in capsys.readouterr().err
    assert table.main(['--run', f'a s0={tmp_path / "nope"}']) == 1
    assert 'is not a folder' in capsys.readouterr().err
