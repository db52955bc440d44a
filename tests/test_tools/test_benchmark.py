"""tools/analysis_tools/benchmark.py runs end to end on tiny sizes (a functional test: no
timing is asserted)."""
import json

from ..helpers import load_tool

benchmark = load_tool('analysis_tools/benchmark.py')


def test_models_are_known_and_teachers_deduplicated():
    names = benchmark.model_names()
    for name in ('student-T', 'student-S', 'student-B', 'nafnet-w32', 'restormer', 'detector',
                 'detector+S', 'teacher:aodnet', 'teacher:nafnet_sidd'):
        assert name in names
    # same networks as an earlier entry: not measured twice
    assert 'teacher:prenet_heavy' not in names
    assert 'teacher:restormer_rain13k' not in names


def test_tiny_run_prints_a_table_and_saves_json(tmp_path, capsys):
    out = tmp_path / 'bench.json'
    rc = benchmark.main(['--models', 'student-T', 'student-T:training-path', 'nafnet-w32',
                         'student-S:bfloat16', 'detector', 'detector+T', 'detector+S:bfloat16',
                         '--sizes', '17', '24', '--det-size', '40', '56', '--runs', '2',
                         '--warmup', '1', '--in-process', '--threads', '1', '--check-size',
                         '24', '--out', str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert '| student-T | 0.076 | 17x17 |' in text
    assert 'fp32 2048x2048 matmul' in text
    data = json.loads(out.read_text())
    assert data['matmul']['gflops'] > 0
    by_name = {r['name']: r for r in data['results']}
    assert [e['size'] for e in by_name['student-T']['sizes']] == [[17, 17], [24, 24]]
    assert [e['size'] for e in by_name['detector']['sizes']] == [[40, 56]]
    for r in data['results']:
        for e in r['sizes']:
            assert e['runs'] == 2 and e['min_s'] <= e['median_s'] <= e['max_s']
            assert e['macs'] > 0
    # the restorer's parameters and MACs are counted with the detector's
    assert by_name['detector+T']['params'] > by_name['detector']['params']
    assert by_name['detector+T']['sizes'][0]['macs'] > by_name['detector']['sizes'][0]['macs']
    fast, slow = by_name['student-T'], by_name['student-T:training-path']
    assert fast['params'] == slow['params']
    assert fast['sizes'][0]['macs'] == slow['sizes'][0]['macs']
    checks = {c['check'] for c in data['checks']}
    assert 'student-S vs nafnet-w32 at 24: speed-up' not in checks  # S not measured
    assert any(c.startswith('nafnet-w32 at 24') for c in checks)
    assert 'detector+S:bfloat16 vs detector test_step: slower by' in checks
    assert "restorer_dtype='auto' is" in text
    assert by_name['student-S:bfloat16']['sizes'][0]['macs'] > 0


def test_worker_subprocess_reports_peak_memory(tmp_path):
    out = tmp_path / 'bench.json'
    assert benchmark.main(['--models', 'student-T', '--sizes', '16', '--runs', '1', '--warmup',
                           '1', '--threads', '1', '--no-macs', '--out', str(out)]) == 0
    entry = json.loads(out.read_text())['results'][0]['sizes'][0]
    assert entry['peak_mem_mib'] is not None and entry['peak_mem_mib'] >= 0
    assert entry['macs'] is None


def test_interleaved_rounds_by_cpu_time(tmp_path, capsys):
    out = tmp_path / 'bench.json'
    assert benchmark.main(['--models', 'detector', 'detector+S:float32', '--det-size', '40',
                           '56', '--runs', '3', '--warmup', '1', '--threads', '1', '--no-macs',
                           '--clock', 'cpu', '--interleave', '--out', str(out)]) == 0
    assert 'clock cpu, interleaved rounds' in capsys.readouterr().out
    data = json.loads(out.read_text())
    entries = [r['sizes'][0] for r in data['results']]
    assert all(e['paired'] and len(e['times']) == 3 for e in entries)
    ratios = sorted(a / b for a, b in zip(entries[1]['times'], entries[0]['times']))
    check = next(c for c in data['checks'] if c['check'].startswith('detector+S:float32'))
    assert check['value'] == round(ratios[1] - 1, 3)  # the median per-round ratio


def test_unknown_model_is_refused():
    assert benchmark.main(['--models', 'resnet']) == 2
