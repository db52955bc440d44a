"""tools/analysis_tools/plot_curves.py: runs overlaid per key, resumed logs, clear errors."""
import json

import cv2
import pytest

from ..helpers import load_tool

plot_curves = load_tool('analysis_tools/plot_curves.py')


def _log(work_dir, stamp, records):
    path = work_dir / stamp / 'vis_data' / 'scalars.json'
    path.parent.mkdir(parents=True)
    path.write_text('\n'.join(json.dumps(r) for r in records) + '\n')


def test_reads_runs_in_order_and_draws_one_panel_per_key(tmp_path, capsys):
    a, b = tmp_path / 'a', tmp_path / 'b'
    _log(a, '20260101_000000', [dict(lr=1e-3, iter=i, loss=1.0 / i, **{'sup.loss_pix': 0.5 / i})
                                for i in (50, 100, 150)] + [{'haze/PSNR': 20.0, 'step': 150}])
    # a resumed run: the later log continues and overrides iteration 150
    _log(a, '20260101_010000', [dict(lr=1e-3, iter=i, loss=0.1, **{'sup.loss_pix': 0.05})
                                for i in (150, 200)])
    _log(b, '20260102_000000', [dict(lr=1e-3, iter=i, loss=2.0) for i in (50, 100)])
    records = plot_curves.read_scalars(a)
    assert [r['iter'] for r in records] == [50, 100, 150, 200]  # validation record left out
    assert records[2]['loss'] == 0.1
    its, values = plot_curves.series(records, 'loss', smooth=2)
    assert its == [50, 100, 150, 200] and values[1] == pytest.approx((1 / 50 + 1 / 100) / 2)
    out = tmp_path / 'curves.png'
    assert plot_curves.main([str(out), '--run', f'A={a}', '--run', f'B={b}',
                             '--keys', 'sup.loss_pix', 'loss', '--smooth', '2']) == 0
    img = cv2.imread(str(out))
    assert img is not None and img.shape[1] > img.shape[0] and img.std() > 5
    assert "B: never logged 'sup.loss_pix'" in capsys.readouterr().out


def test_bad_input_names_the_file(tmp_path, capsys):
    with pytest.raises(plot_curves.UsageError, match='work dir not found'):
        plot_curves.read_scalars(tmp_path / 'missing')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(plot_curves.UsageError, match='no \\*/vis_data/scalars.json'):
        plot_curves.read_scalars(tmp_path / 'empty')
    bad = tmp_path / 'bad'
    _log(bad, 'x', [dict(lr=1, iter=1)])
    with (bad / 'x' / 'vis_data' / 'scalars.json').open('a') as f:
        f.write('{not json\n')
    with pytest.raises(plot_curves.UsageError, match='scalars.json:2: not a JSON line'):
        plot_curves.read_scalars(bad)
    args = [str(tmp_path / 'o.png'), '--run', 'nameonly']
    assert plot_curves.run_cli(plot_curves.main, args) == 2
    assert 'NAME=WORK_DIR' in capsys.readouterr().err
