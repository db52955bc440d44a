"""uniremoval_mm.evaluation.detection_benchmark: arms, planned runs and the report, as an
API (the command line's own tests: tests/test_tools/test_detection_benchmark.py)."""
import json

import pytest

from uniremoval_mm.evaluation import detection_benchmark as api
from ..conftest import REPO_ROOT
from ..helpers import make_empty_det_root

DET = REPO_ROOT / 'configs' / 'detection' / 'rtmdet-tiny_demo-shapes.py'
JOINT = REPO_ROOT / 'configs' / 'detection' / 'rtmdet-tiny_demo-shapes300_uniremoval-s_joint.py'


def test_resolve_arms_single_restorer_students_and_detectors(tmp_path):
    ckpt = tmp_path / 'a.pth'
    ckpt.write_bytes(b'x')
    assert api.resolve_arms([], api.MODES, False, 'r.pth') == (
        {'restored': 'r.pth'}, {}, ['restored'], ['raw', 'restored'])
    students, detectors, order, modes = api.resolve_arms(
        [('--student', f'b s0={ckpt}'), ('--detector', f'j s0={DET},{ckpt}'),
         ('--student', f'b s1={ckpt}')], api.MODES, False, reference='j')
    assert students == {'b s0': str(ckpt), 'b s1': str(ckpt)}
    assert detectors == {'j s0': (DET, str(ckpt))} and order == ['b s0', 'j s0', 'b s1']
    # only detectors, no restorer for the main one: it runs raw
    assert api.resolve_arms([('--detector', f'j={DET},{ckpt}')], api.MODES, False)[3] == ['raw']
    for entries, kwargs, message in (
            ([], {}, '--restorer-checkpoint is needed'),
            ([('--student', f'a={ckpt}')], dict(builtin=True), 'not with --restorer-checkpoint'),
            ([('--student', f'a={ckpt}')], dict(reference='z'), "--reference 'z': not an arm"),
            ([('--student', 'a')], {}, 'expected NAME=CHECKPOINT')):
        with pytest.raises(ValueError, match=message):
            api.resolve_arms(entries, api.MODES, **{'builtin': False, **kwargs})


def _data(tmp_path):
    return make_empty_det_root(tmp_path)


def test_plan_runs_writes_one_config_per_set_and_row(tmp_path):
    root, work = _data(tmp_path), tmp_path / 'work'
    net = api.restorer_config('UniRemovalNetT')
    runs = api.plan_runs(DET, 'det.pth', root, ['clean', 'haze'], api.MODES,
                         {'s0': 'a.pth'}, {'j': (JOINT, 'j.pth')}, net, work, label='x')
    assert [(r.set, r.name, r.checkpoint) for r in runs] == [
        ('clean', 'raw', 'det.pth'), ('clean', 's0', 'det.pth'), ('clean', 'j', 'j.pth'),
        ('haze', 'raw', 'det.pth'), ('haze', 's0', 'det.pth'), ('haze', 'j', 'j.pth')]
    assert all(r.config.is_file() and r.config.parent == work / 'configs' for r in runs)
    assert runs[4].work_dir == work / 'x_haze_s0'
    assert "'restorer_checkpoint': 'a.pth'" in runs[4].config.read_text()
    with pytest.raises(api.BenchmarkError, match='rain/val.json not found'):
        api.plan_runs(DET, 'det.pth', root, ['rain'], ['raw'], {}, {}, None, work)


def test_measure_runs_and_write_report(tmp_path, monkeypatch):
    root, work = _data(tmp_path), tmp_path / 'work'
    runs = api.plan_runs(DET, 'det.pth', root, ['clean', 'haze'], api.MODES,
                         {'restored': 'a.pth'}, {}, api.restorer_config('T'), work)
    score = {('clean', 'raw'): 0.8, ('clean', 'restored'): 0.79, ('haze', 'raw'): 0.6,
             ('haze', 'restored'): 0.7}
    monkeypatch.setattr(api, 'run_one', lambda config, checkpoint, work_dir, threads: {
        'coco/bbox_mAP': score[tuple(config.stem.split('_')[1:])], 'seconds': 0.0})
    lines = []
    rows = api.measure_runs(runs, jobs=2, report=lines.append)
    assert [(r['set'], r['mode'], r['coco/bbox_mAP']) for r in rows] == [
        (s, m, score[(s, m)]) for s, m in score]
    assert len(lines) == 4 and lines[-1].startswith('haze   restored   mAP 0.700')
    md = api.write_report(rows, ['restored'], work, 'b', dict(config='c'))
    assert '| haze | 0.600 |  | 0.700 |  | +50% |  |' in md
    assert (work / 'b.md').read_text() == md + '\n'
    assert json.loads((work / 'b.json').read_text()) == dict(config='c', rows=rows)

    def fails(config, checkpoint, work_dir, threads):
        raise RuntimeError(f'tools/test.py {config} failed')

    monkeypatch.setattr(api, 'run_one', fails)
    with pytest.raises(api.BenchmarkError, match='failed'):
        api.measure_runs(runs)
