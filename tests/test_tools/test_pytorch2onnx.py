"""tools/deployment/pytorch2onnx.py: the exported student runs at any size in onnxruntime
and matches PyTorch."""

import pytest
import torch

from ..helpers import load_tool

pytest.importorskip('onnx')
pytest.importorskip('onnxruntime')

p2o = load_tool('deployment/pytorch2onnx.py')


@pytest.mark.parametrize('export_shape', [(24, 32), (29, 35)], ids=['multiple', 'odd'])
def test_dynamic_height_width_match_pytorch(tmp_path, export_shape):
    """Exported at one size (a multiple of 8 or not), run at two other odd sizes."""
    net = p2o.build_student('T')
    out = str(tmp_path / 't.onnx')
    p2o.export(net, out, export_shape)
    diffs = p2o.max_abs_diff(net, p2o.session(out, threads=1), [(37, 53), (17, 71)], batch=2)
    assert set(diffs) == {'37x53', '17x71'}
    assert max(diffs.values()) < 1e-4, diffs


def test_cli_reports_the_difference_and_benchmarks(tmp_path, capsys):
    threads = torch.get_num_threads()
    rc = p2o.main(['--size', 'T', '--out', str(tmp_path / 't.onnx'), '--shape', '21', '19',
                   '--verify', '13', '27', '--bench', '16', '--runs', '1', '--warmup', '1',
                   '--threads', '1'])
    assert rc == 0
    assert torch.get_num_threads() == threads
    text = capsys.readouterr().out
    assert 'max abs difference onnxruntime vs PyTorch at 13x27' in text
    assert '| 16x16 |' in text


def test_cli_fails_above_the_tolerance(tmp_path):
    assert p2o.main(['--size', 'T', '--out', str(tmp_path / 't.onnx'), '--verify', '9', '11',
                     '--tolerance', '-1']) == 1
    with pytest.raises(SystemExit):
        p2o.main(['--verify', '9'])
