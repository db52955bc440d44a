"""tools/demo.py: the whole demo in --quick mode, from an empty folder (as on a user's
machine: no ../shared, so the teachers' fallbacks and the embedded photos are used)."""
import json
import os

import cv2
import pytest

from ..helpers import load_tool


def _demo():
    return load_tool('demo.py')


@pytest.fixture(scope='module')
def quick_demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    cwd = os.getcwd()
    os.chdir(root)
    try:
        demo = _demo()
        code = demo.main(['--quick', '--skip-smoke', '--out-dir', 'out'])
    finally:
        os.chdir(cwd)
    return demo, root, code


def test_quick_demo_runs_end_to_end(quick_demo):
    demo, root, code = quick_demo
    assert code == 0
    out = root / 'out'
    assert (root / 'data' / 'demo' / 'MANIFEST.txt').is_file()  # built the demo data
    for run in ('stage1', 'stage2', 'detector'):
        state = json.loads((out / run / 'progress.json').read_text())
        assert state['finished'] and state['done'] == state['total'] > 0
        assert (out / 'logs' / f'{run}.log').stat().st_size > 0
    results = (out / 'results.md').read_text()
    for row in ('| input |', '| student stage 1 |', '| student stage 2 |', '| student shipped |',
                '| teacher DarkChannelPrior |', '| haze |', '| train stage1 |', '| total |'):
        assert row in results, row
    # the shipped student is named by its SHA-256, and sits beside the demo's in both tables
    from uniremoval_mm.utils.results import sha256_of
    assert f'SHA-256 {sha256_of(demo.RELEASED)}' in results
    assert '| set | raw | demo stage 2 (n=1) | shipped (n=1) |' in results
    restoration = json.loads((out / 'restoration.json').read_text())
    assert set(restoration['student stage 2']) == {f'demo {k}' for k in
                                                   ('haze', 'rain', 'blur', 'noise', 'mixed')}
    assert set(restoration['student shipped']) == set(restoration['student stage 2'])
    bench = json.loads((out / 'detection_benchmark' / 'demo.json').read_text())
    assert [(r['set'], r['mode']) for r in bench['rows']] == [
        (s, m) for s in ('clean', 'haze') for m in ('raw', 'demo stage 2', 'shipped')]
    grid = cv2.imread(str(out / 'pictures' / 'restoration_grid.jpg'))
    lq = cv2.imread(str(root / 'data' / 'demo' / 'pairs' / 'haze' / 'lq' / 'coffee_0.png'))
    assert grid.shape[1] >= 5 * lq.shape[1]  # input | stage 1 | stage 2 | shipped | truth
    assert grid.shape[0] >= 5 * lq.shape[0]  # one row per degradation
    boxes = cv2.imread(str(out / 'pictures' / 'detection_before_after.jpg'))
    assert boxes is not None and boxes.shape[1] >= 2 * 320  # before | after
    assert cv2.imread(str(out / 'pictures' / 'training_curves.png')) is not None


def test_a_second_run_reuses_finished_trainings(quick_demo, capsys):
    demo, root, _ = quick_demo
    out = root / 'out'
    ckpt = (out / 'stage1' / 'last_checkpoint').read_text().strip()
    before = os.stat(ckpt).st_mtime_ns
    runs = [demo.Run(name, cfg, out / name, []) for name, cfg in (
        ('stage1', demo.STAGE1_CFG), ('stage2', demo.STAGE2_CFG), ('detector', demo.DET_CFG))]
    seconds = demo.run_chains([runs[:2], runs[2:]], out / 'logs', threads=1)
    assert seconds == dict(stage1=0.0, stage2=0.0, detector=0.0)
    assert capsys.readouterr().out.count('finished before, reused') == 3
    assert os.stat(ckpt).st_mtime_ns == before


def test_the_report_names_the_shipped_checkpoint_and_the_spread(tmp_path):
    from argparse import Namespace

    from uniremoval_mm.utils.results import sha256_of
    demo = _demo()
    text = demo.report(Namespace(out_dir=tmp_path, jobs=2, quick=False), '| r |', '| d |',
                       dict(total=60.0), tmp_path)
    assert f'checkpoints/uniremoval-net-s_stage1-cpu.pth, SHA-256 {sha256_of(demo.RELEASED)}' \
        in text
    assert '71 CPU' not in text and 'two decimals' in text and 'demo stage 2' in text


def test_a_failed_training_stops_the_demo_and_names_its_log(tmp_path):
    demo = _demo()
    bad = tmp_path / 'broken.py'
    bad.write_text("_base_ = 'no_such_base.py'\n")
    with pytest.raises(RuntimeError, match=r'broken failed \(exit 1\); its log: .*broken\.log'):
        demo.run_chains([[demo.Run('broken', bad, tmp_path / 'work', [])]], tmp_path / 'logs',
                        threads=1)
    assert 'no_such_base' in (tmp_path / 'logs' / 'broken.log').read_text()


def test_a_run_finds_its_checkpoint_in_a_moved_work_dir(tmp_path):
    demo = _demo()
    run = demo.Run('stage1', demo.STAGE1_CFG, tmp_path / 'stage1', [])
    run.work_dir.mkdir()
    assert not run.finished() and '--resume' not in run.command()
    (run.work_dir / 'iter_2.pth').write_bytes(b'')
    (run.work_dir / 'last_checkpoint').write_text('/elsewhere/stage1/iter_2.pth')
    run.progress.write_text(json.dumps(dict(finished=True)))
    assert run.finished() and '--resume' in run.command()
    assert run.checkpoint() == run.work_dir / 'iter_2.pth'
