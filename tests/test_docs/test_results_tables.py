"""Every results table in the docs is rendered from its results/*.json (render_docs.py),
and every results file and metafile names its weights by their real SHA-256."""
import json

import pytest
import yaml

from uniremoval_mm.utils.results import (load_results, make_results, render_view, sha256_of,
                                         validate_results)
from ..conftest import REPO_ROOT
from ..helpers import load_tool

RESULTS = sorted((REPO_ROOT / 'results').glob('*.json'))


def _render():
    return load_tool('misc/render_docs.py')


def _results(**metrics):
    return make_results('t', 'python tools/x.py', [dict(label='a', metrics=metrics)],
                        commit='abc1234')


def test_the_docs_tables_match_their_results_files():
    render = _render()
    stale = render.render(render.markdown_files(), REPO_ROOT / 'results', check=True)
    assert not stale, ('tables differ from results/*.json; run python tools/misc/'
                       f'render_docs.py: {stale}')


def test_every_results_file_is_used_and_valid():
    render = _render()
    text = '\n'.join(p.read_text() for p in render.markdown_files())
    assert RESULTS
    for path in RESULTS:
        load_results(path)
        assert f'<!-- results:{path.stem}' in text, f'{path.name} is rendered nowhere'


def test_a_table_that_differs_from_its_json_is_stale_and_rendering_fixes_it(tmp_path):
    render = _render()
    results = tmp_path / 'results'
    results.mkdir()
    (results / 'r.json').write_text(json.dumps(_results(psnr=20.5)))
    doc = tmp_path / 'doc.md'
    doc.write_text('intro\n<!-- results:r -->\n| | psnr |\n|---|---|\n| a | 20.4 |\n'
                   '<!-- /results:r -->\nafter\n')
    assert render.main(['--check', '--results-dir', str(results), str(doc)]) == 1
    assert render.main(['--results-dir', str(results), str(doc)]) == 0
    assert '| a | 20.5 |' in doc.read_text() and doc.read_text().endswith('after\n')
    assert render.main(['--check', '--results-dir', str(results), str(doc)]) == 0


def test_markers_in_fenced_code_are_left_alone(tmp_path):
    render = _render()
    text = '```text\n<!-- results:x -->\n<!-- /results:x -->\n```\n'
    assert render.render_text(text, tmp_path) == (text, [])


def test_a_marker_naming_no_file_or_view_is_an_error(tmp_path, capsys):
    render = _render()
    (tmp_path / 'r.json').write_text(json.dumps(_results(x=1)))
    doc = tmp_path / 'doc.md'
    for name in ('missing', 'r:noview'):
        doc.write_text(f'<!-- results:{name} -->\n<!-- /results:{name} -->\n')
        assert render.main(['--check', '--results-dir', str(tmp_path), str(doc)]) == 2
    assert 'no view' in capsys.readouterr().err


def test_views_pick_the_first_format_that_fits():
    results = _results(**{'s/PSNR': 19.234, 's/SSIM': 0.7481, 'share': 'no loss'})
    results['rows'].append(dict(label='b', metrics={'s/PSNR': 13.5, 'teacher': 'AOD'}))
    results['views'] = dict(default=dict(label_header='who', bold_rows=['a'], columns=[
        dict(header='s', format=['{s/PSNR:.2f} / {s/SSIM:.3f}', '{s/PSNR:.2f} ({teacher})']),
        dict(header='share', format=['{share:+d} %', '{share}', 'none'])]))
    validate_results(results)
    assert render_view(results).splitlines() == [
        '| who | s | share |', '|---|---|---|', '| **a** | **19.23 / 0.748** | **no loss** |',
        '| b | 13.50 (AOD) | none |']


@pytest.mark.parametrize('broken, match', [
    (dict(schema=2), 'schema'), (dict(produced_by='guess'), 'produced_by'),
    (dict(rows=[]), 'rows'), (dict(rows=[dict(label='a', metrics=dict(x=[1]))]), 'metrics'),
    (dict(checkpoints=dict(s=dict(path='x', sha256='12'))), 'checkpoints'),
    (dict(views=dict(v=dict(columns=[dict(header='h', format='{x}')], rows=['zz']))), 'rows')])
def test_invalid_results_raise_naming_the_field(broken, match):
    results = dict(_results(x=1), **broken)
    with pytest.raises(ValueError, match=match):
        validate_results(results)


def _metafile_models():
    index = yaml.safe_load((REPO_ROOT / 'model-index.yml').read_text())
    return [(rel, model) for rel in index['Import']
            for model in yaml.safe_load((REPO_ROOT / rel).read_text())['Models']]


def test_the_model_index_lists_the_shipped_model():
    models = {m['Name']: m for _, m in _metafile_models()}
    assert models['uniremoval-net-s_stage1-cpu']['Weights'] == \
        'checkpoints/uniremoval-net-s_stage1-cpu.pth'


def test_metafiles_and_results_name_their_weights_by_their_true_sha256():
    assert _render().weight_problems() == []


def test_a_metafile_sha256_that_differs_from_its_file_fails(tmp_path):
    (tmp_path / 'w.pth').write_bytes(b'weights')
    (tmp_path / 'c.py').write_text('')
    (tmp_path / 'model-index.yml').write_text('Import:\n  - m.yml\n')
    model = dict(Name='m', Config='c.py', Weights='w.pth',
                 Metadata={'Weights SHA-256': sha256_of(tmp_path / 'w.pth')})
    (tmp_path / 'm.yml').write_text(yaml.safe_dump(dict(Models=[model])))
    render = _render()
    assert render.weight_problems(tmp_path) == []
    (tmp_path / 'w.pth').write_bytes(b'other weights')
    assert render.weight_problems(tmp_path) == [
        f'm.yml: m: Weights SHA-256 {model["Metadata"]["Weights SHA-256"]} is not the '
        f'SHA-256 of w.pth ({sha256_of(tmp_path / "w.pth")})']
    (tmp_path / 'results').mkdir()
    (tmp_path / 'results' / 'r.json').write_text(json.dumps(dict(
        _results(x=1), checkpoints=dict(s=dict(path='w.pth', sha256='0' * 64)))))
    assert render.weight_problems(tmp_path)[-1].startswith(
        'results/r.json: checkpoints.s: sha256 ' + '0' * 64)


def test_the_metafile_results_are_the_results_file_numbers():
    results = load_results(REPO_ROOT / 'results' / 'uniremoval-net-s_stage1-cpu_synthetic.json')
    metrics = {r['label']: r['metrics'] for r in results['rows']}['student released']
    model = {m['Name']: m for _, m in _metafile_models()}['uniremoval-net-s_stage1-cpu']
    assert model['Results']
    for result in model['Results']:
        name = result['Dataset'].split(' (')[0]  # 'SOTS-outdoor (2 pairs)' -> the set
        for key, value in result['Metrics'].items():
            digits = 2 if key == 'PSNR' else 3
            assert value == round(metrics[f'{name}/{key}'], digits), (name, key)
