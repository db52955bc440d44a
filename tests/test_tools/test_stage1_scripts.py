"""tools/analysis_tools/stage1_benchmark.py and stage1_table.py run and print their tables."""
import json
import subprocess
import sys

import pytest
import torch

from ..conftest import REPO_ROOT
from ..helpers import (load_tool, make_paired_folder, perturbed_student, save_stage1_checkpoint,
                       write_random_photos)


def _run(args, tmp_path):
    proc = subprocess.run([sys.executable, *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


def test_stage1_benchmark_reports_speed_memory_and_the_teachers_share(tmp_path):
    out = _run(['tools/analysis_tools/stage1_benchmark.py', '--batch', '4', '--crop', '24',
                '--steps', '2', '--warmup', '1', '--threads', '1', '--json',
                str(tmp_path / 'b.json')], tmp_path)
    res = json.loads((tmp_path / 'b.json').read_text())
    assert res['batch'] == 4 and res['crop'] == 24 and set(res['teachers']) >= {'blur'}
    assert res['online']['iters_per_s'] > 0 and 0 < res['online']['teacher_share_median'] < 1
    # cached teacher outputs: the teachers never run
    assert res['cached']['iters_per_s'] > 0 and res['cached']['teacher_share_median'] == 0
    assert res['speedup_median'] > 0 and res['peak_memory_mib'] > 0
    assert '| online |' in out and '| cached |' in out and 'faster per step' in out


def test_stage1_table_rows_per_restorer_and_columns_per_set(tmp_path):
    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.models import build_uniremoval_net
    for kind in ('haze', 'noise'):
        make_paired_folder(tmp_path / 'pairs' / kind, [(40, 52)], lq_dir='lq', gt_dir='gt',
                           lq_suffix='', gt_suffix='')
    ckpt, first = tmp_path / 's.pth', tmp_path / 'first.pth'
    torch.save({'state_dict': {f'generator.{k}': v
                               for k, v in build_uniremoval_net('S').state_dict().items()}}, ckpt)
    net = build_uniremoval_net('S', down_kernel=2, upsample='pixelshuffle')  # the first S
    torch.save({'state_dict': {f'generator.{k}': v for k, v in net.state_dict().items()}}, first)
    out = _run(['tools/analysis_tools/stage1_table.py', 'configs/uniremoval_stage1.py',
                '--student', f'identity={ckpt}', '--student', f'first={first}',
                '--student-config', 'first=configs/ablations/stage1_release_v1.py',
                '--demo-root', str(tmp_path / 'pairs'),
                '--realdata', str(tmp_path / 'none'), '--json', str(tmp_path / 't.json'),
                '--grid', str(tmp_path / 'grid.jpg'), '--grid-side', '32',
                '--results', str(tmp_path / 'results.json')], tmp_path)
    res = json.loads((tmp_path / 't.json').read_text())
    # the same table as a results file: the command, the students' SHA-256, one row each
    from uniremoval_mm.utils.results import load_results, render_view, sha256_of
    results = load_results(tmp_path / 'results.json')
    assert results['produced_by'] == 'tool' and '--student identity=' in results['command']
    assert results['checkpoints']['identity']['sha256'] == sha256_of(ckpt)
    rows = {r['label']: r['metrics'] for r in results['rows']}
    assert rows['input']['demo haze/PSNR'] == res['input']['demo haze']['psnr']
    assert render_view(results).splitlines()[2].startswith(
        f"| input | {res['input']['demo haze']['psnr']:.2f} / ")
    assert set(res['input']) == {'demo haze', 'demo noise'}
    # a fresh student is the identity: it scores exactly the input
    for name in ('demo haze', 'demo noise'):
        assert res['student identity'][name]['psnr'] == res['input'][name]['psnr']
        assert res['student first'][name]['psnr'] == res['input'][name]['psnr']
        assert res['student first'][name]['shift'] == res['input'][name]['shift']
        assert res['student identity'][name]['low_rms'] == res['input'][name]['low_rms']
        assert res['input'][name]['high_rms'] > 0
    assert '| input | ' + ' | '.join(f"{res['input'][n]['shift']:+.1f}"
                                     for n in ('demo haze', 'demo noise')) + ' |' in out
    teachers = [r for r in res if r.startswith('teacher')]
    assert teachers and any(res[t]['demo haze']['own'] for t in teachers)
    assert out.startswith('| restorer | demo haze | demo noise |')
    import cv2
    grid = cv2.imread(str(tmp_path / 'grid.jpg'))  # 2 sets x (input | 2 students | clean)
    assert grid.shape == (2 * (32 + 20 + 4), 4 * (32 + 4), 3)


def test_stage1_table_unpaired_photos_no_reference_table_and_picture(tmp_path):
    """Real photos without a reference: NIQE, PIQE and haze density of the input and each
    student over every photo (a fresh student scores exactly the input), a fixed sample
    drawn as input | student, and a clear error for a bad folder."""
    import cv2

    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.models import build_uniremoval_net
    photos = write_random_photos(tmp_path / 'fog', [(230, 301), (197, 211), (250, 203)])
    ckpt = tmp_path / 's.pth'
    torch.save({'state_dict': {f'generator.{k}': v
                               for k, v in build_uniremoval_net('S').state_dict().items()}}, ckpt)
    out = _run(['tools/analysis_tools/stage1_table.py', 'configs/uniremoval_stage1.py',
                '--no-teachers', '--student', f'identity={ckpt}', '--skip-pairs',
                '--unpaired', f'fog={photos}', '--unpaired-side', '200',
                '--unpaired-sample', '2', '--unpaired-grid', str(tmp_path / 'u.jpg'),
                '--json', str(tmp_path / 't.json')], tmp_path)
    res = json.loads((tmp_path / 't.json').read_text())
    cell = res['input']['fog (no reference)']
    assert cell['n'] == 3 and cell['niqe'] > 0 and 0 <= cell['dark'] <= 1
    assert 0 <= cell['piqe'] <= 100
    assert res['student identity']['fog (no reference)'] == cell
    assert '| restorer | fog (3) |' in out and 'longer side 200 px' in out
    grid = cv2.imread(str(tmp_path / 'u.jpg'))  # 2 photos x (input | identity), 240 px high
    assert grid.shape[0] == 2 * (240 + 20 + 4)
    proc = subprocess.run([sys.executable, 'tools/analysis_tools/stage1_table.py',
                           'configs/uniremoval_stage1.py', '--skip-pairs', '--unpaired',
                           f'fog={tmp_path / "nowhere"}'], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode != 0 and 'folder not found' in proc.stderr


def test_restorer_dtype_quality_compares_bf16_with_fp32(tmp_path):
    import uniremoval_mm  # noqa: F401
    make_paired_folder(tmp_path / 'pairs' / 'rain', [(40, 52), (33, 21)], lq_dir='lq',
                       gt_dir='gt', lq_suffix='', gt_suffix='')
    # off the identity start: bf16 must differ a little
    ckpt = save_stage1_checkpoint(perturbed_student('S'), tmp_path / 's.pth')
    out = _run(['tools/analysis_tools/restorer_dtype_quality.py', '--checkpoint', str(ckpt),
                '--demo-root', str(tmp_path / 'pairs'), '--realdata', str(tmp_path / 'none'),
                '--threads', '1'], tmp_path)
    row = next(line for line in out.splitlines() if line.startswith('| demo rain | 2 |'))
    cells = [c.strip() for c in row.strip('|').split('|')]
    assert float(cells[3]) > 40 and 0 < float(cells[4]) < 5  # PSNR bf16 vs fp32, max diff


def test_paired_seeds_reports_mean_sd_and_paired_differences(tmp_path):
    row = lambda p: {'demo haze': dict(psnr=p, ssim=0.5, own=False)}  # noqa: E731
    table = {'input': row(10.0), 'student gt s0': row(12.0), 'student gt s1': row(13.0),
             'student kd s0': row(12.5), 'student kd s1': row(14.5), 'student kd s7': row(99)}
    (tmp_path / 't.json').write_text(json.dumps(table))
    out = _run(['tools/analysis_tools/paired_seeds.py', str(tmp_path / 't.json'),
                '--arms', 'gt', 'kd'], tmp_path)
    # seeds 0 and 1 only (7 has no partner); kd - gt = 0.5 and 1.5: mean 1.00, sd 0.71
    assert 'n = 2' in out and '| demo haze | 12.50 ± 0.71 | 13.50 ± 1.41 | 1.00 ± 0.71 |' in out


def test_stage1_table_gives_every_restorer_the_same_mirrored_border(tmp_path):
    import uniremoval_mm  # noqa: F401
    from uniremoval_mm.apis import bordered_forward
    tool = load_tool('analysis_tools/stage1_table.py')
    net = perturbed_student('S')
    ckpt = save_stage1_checkpoint(net, tmp_path / 's.pth')
    x = torch.rand(1, 3, 21, 30)
    outs = {}
    for border in (0, 8):
        args = tool.parse_args(['configs/uniremoval_stage1.py', '--no-teachers',
                                '--student', f's={ckpt}', '--border', str(border)])
        restorers = tool._restorers(args)
        assert set(restorers) == {'input', 'student s'}
        with torch.no_grad():
            outs[border] = restorers['student s'][1](x)
            assert torch.equal(restorers['input'][1](x), x)
    with torch.no_grad():
        plain, mirrored = net(x), bordered_forward(net, x, 8)
    assert torch.allclose(outs[0], plain, atol=1e-4)
    assert torch.allclose(outs[8], mirrored, atol=1e-4)
    assert not torch.allclose(outs[0], outs[8], atol=1e-4)


def test_band_errors_split_tone_from_detail():
    import numpy as np
    tool = load_tool('analysis_tools/stage1_table.py')
    rng = np.random.default_rng(0)
    clean = rng.uniform(50, 200, (37, 45, 3))
    assert tool.band_errors(clean, clean) == (0.0, 0.0)
    # a uniform brightness shift is all tone
    low, high = tool.band_errors(clean + 6.0, clean)
    assert abs(low - 6.0) < 1e-3 and high < 1e-3
    # white noise is (almost) all detail
    noise = rng.normal(0, 10, clean.shape)
    low, high = tool.band_errors(clean + noise, clean, sigma=4.0)
    assert high > 9.0 and low < 1.0
    # a smooth ramp, one channel, stays below the low-pass
    ramp = np.linspace(0, 20, 45)[None, :, None].repeat(37, 0)
    low, high = tool.band_errors(clean[..., :1] + ramp, clean[..., :1])
    assert low > 8.0 and high < 0.2 * low
    with pytest.raises(ValueError, match='shapes differ'):
        tool.band_errors(clean[:, :40], clean)
    with pytest.raises(ValueError, match='sigma must be > 0'):
        tool.band_errors(clean, clean, sigma=0)


def test_student_cost_writes_its_table_as_a_results_file(tmp_path, capsys):
    from uniremoval_mm.utils.results import load_results
    assert load_tool('analysis_tools/student_cost.py').main(
        ['--shape', '32', '48', '--results', str(tmp_path / 'cost.json')]) == 0
    rows = {r['label']: r['metrics'] for r in load_results(tmp_path / 'cost.json')['rows']}
    assert set(rows) == {'UniRemovalNetT', 'UniRemovalNetS', 'UniRemovalNetB'}
    assert rows['UniRemovalNetS']['params'] == 1414255  # the shipped S
    assert f"{rows['UniRemovalNetS']['params_M']:.3f} M" in capsys.readouterr().out
