"""tools/adapt_restorer.py --mode frozen, end to end on a tiny Faster R-CNN: tuned,
released, configured, benchmarked, and resumed; its errors one line."""
import json
import os
import subprocess
import sys

from ..conftest import REPO_ROOT
from ..helpers import load_tool, tiny_detector


def test_frozen_adaptation_end_to_end_and_resumed(tmp_path):
    import torch
    from mmengine.config import Config
    config, checkpoint = tiny_detector(tmp_path)
    out = tmp_path / 'adapt'
    cmd = [sys.executable, 'tools/adapt_restorer.py', str(config), str(checkpoint),
           '--kinds', 'haze', '--minutes', '0.05', '--out-dir', str(out),
           '--min-train-images', '4', '--min-val-images', '4', '--jobs', '2']
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200,
                          env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rate = json.loads((out / 'timing.json').read_text())['seconds_per_iteration']
    iters = max(1, int(3 / rate))  # what fits in 0.05 min
    assert f'so {iters} iterations fit in 0.05 min' in proc.stdout
    student = out / f'adapted_student_i{iters}_s0.pth'
    weights = torch.load(student, map_location='cpu')['state_dict']
    assert weights and not any(k.startswith(('generator.', 'igcl.')) for k in weights)
    delta = Config.fromfile(str(out / 'det_adapted.py'))
    pre = delta.model.data_preprocessor
    assert pre.type == 'UniRemovalPreprocessor' and pre.restorer_checkpoint == str(student)
    assert pre.mean == [123.675, 116.28, 103.53]  # the detector's own, merged from _base_
    report = json.loads((out / 'report.json').read_text())
    assert [(r['set'], r['mode']) for r in report['rows']] == [
        (s, m) for s in ('clean', 'haze') for m in ('raw', 'shipped', 'adapted')]
    assert report['mode'] == 'frozen' and report['students']['adapted'] == str(student)
    assert '| set | raw | shipped (n=1) | adapted (n=1) |' in (out / 'report.md').read_text()
    assert (out / 'report.png').stat().st_size > 0
    # again: nothing is timed, tuned, degraded or tested twice
    stamp = (out / 'timing.json').stat().st_mtime_ns
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                          env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert 'tuning ' not in proc.stdout and '0 images degraded, 4 kept' in proc.stdout
    assert (out / 'timing.json').stat().st_mtime_ns == stamp
    assert f'so {iters} iterations fit' in proc.stdout
    # the final checkpoint torn (a crash while saving it): the tuning is resumed from the
    # one before, or started again where there is none (a single iteration fitted)
    last = out / f'tune_i{iters}_s0' / f'iter_{iters}.pth'
    last.write_bytes(last.read_bytes()[:1000])
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                          env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert f'tuning {iters} iterations' in proc.stdout
    if iters > 1:
        assert f'{last} is unreadable' in (out / f'tune_i{iters}_s0.log').read_text()
    else:
        assert f'{last}: cannot resume: truncated' in proc.stdout
        assert 'starting it again' in proc.stdout
    assert torch.load(last, map_location='cpu', weights_only=False)['meta']['iter'] == iters


def test_unusable_data_is_one_line(tmp_path, capsys):
    tool = load_tool('adapt_restorer.py')
    config, checkpoint = tiny_detector(tmp_path)
    code = tool.run_cli(tool.main, [str(config), str(checkpoint), '--out-dir',
                                    str(tmp_path / 'out')])
    err = capsys.readouterr().err.strip()
    assert code == 2 and '\n' not in err
    assert err.endswith(f'{tmp_path / "data" / "ann.json"}: 4 train images with boxes, at '
                        'least 20 needed to adapt on')
    assert not (tmp_path / 'out').exists()  # nothing written before the data is checked


def test_joint_adaptation_end_to_end(tmp_path):
    """The detector fine-tuned with the student in front, and the control without; both
    benchmarked next to the detector as it was, paired against the control."""
    import torch
    from mmengine.config import Config
    config, checkpoint = tiny_detector(tmp_path)
    out = tmp_path / 'joint'
    proc = subprocess.run(
        [sys.executable, 'tools/adapt_restorer.py', str(config), str(checkpoint), '--mode',
         'joint', '--epochs', '1', '--batch-size', '2', '--kinds', 'haze', '--out-dir', str(out),
         '--min-train-images', '4', '--min-val-images', '4', '--jobs', '2'],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200,
        env={**os.environ, 'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    joint = Config.fromfile(str(out / 'joint_e1_s0.py'))
    pre = joint.model.data_preprocessor
    assert pre.type == 'UniRemovalPreprocessor' and pre['freeze'] is False and pre.reg_weight == 0.1
    assert [h['type'] for h in joint.custom_hooks] == ['ProgressHook', 'RestorerLossHook']
    steps = [t['type'] for t in joint.train_dataloader.dataset.pipeline]
    assert steps[:3] == ['LoadImageFromFile', 'LoadAnnotations', 'AddMixedDegradation']
    control = Config.fromfile(str(out / 'control_e1_s0.py'))
    assert control.model.data_preprocessor.type == 'DetDataPreprocessor'
    assert control.train_dataloader.dataset.pipeline == joint.train_dataloader.dataset.pipeline
    state = torch.load(out / 'joint_e1_s0' / 'epoch_1.pth', map_location='cpu',
                       weights_only=False)['state_dict']
    assert any(k.startswith('data_preprocessor.restorer.') for k in state)  # trained inside
    report = json.loads((out / 'report.json').read_text())
    assert [(r['set'], r['mode']) for r in report['rows']] == [
        (s, m) for s in ('clean', 'haze') for m in ('raw', 'joint', 'control')]
    md = (out / 'report.md').read_text()
    assert '| set | raw | joint (n=1) | control (n=1) |' in md
    assert 'arm - control' in md
