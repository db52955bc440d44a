"""tools/analysis_tools/allinone_table.py end to end on fixture test sets made here.

A freshly built UniRemovalNet-T is the identity (zero-initialised tail), so its row must
equal the degraded input's row; the input's numbers are checked against PSNRs computed
here by hand, on Y for Rain100L, on RGB for SOTS-outdoor and CBSD68, on the grey channel
for grey BSD68 (and the fixtures are chosen so that Y and RGB differ).
"""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from uniremoval_mm.models import UniRemovalNetT
from ..helpers import load_tool

H, W = 17, 23
Y_COEFFS = np.array([65.481, 128.553, 24.966])  # ITU-R BT.601 studio swing, on [0, 1] RGB


tool = load_tool('analysis_tools/allinone_table.py')


def _save(path: Path, pixels: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)


def _pairs(root: Path, names, seed: int, gray: bool = False):
    """Clean images, and degraded ones that are a colour shift (so Y != RGB) plus noise."""
    rng = np.random.default_rng(seed)
    made, gts = [], {}
    for lq_name, gt_name in names:
        if gt_name not in gts:
            gts[gt_name] = rng.integers(40, 216, (H, W) if gray else (H, W, 3)).astype(float)
        gt = gts[gt_name]
        shift = 0 if gray else np.array([30.0, -5.0, 12.0])
        lq = np.clip(gt + shift + rng.normal(0, 9, gt.shape), 0, 255).round()
        _save(root / 'lq' / f'{lq_name}.png', lq.astype(np.uint8))
        if not (root / 'gt' / f'{gt_name}.png').exists():
            _save(root / 'gt' / f'{gt_name}.png', gt.astype(np.uint8))
        made.append((lq.astype(np.uint8), gt.astype(np.uint8)))
    return made


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return 10 * np.log10(255.0 ** 2 / np.mean((a.astype(np.float64) - b) ** 2))


def _flat(scores: dict) -> dict:
    return {(name, k): v for name, entry in scores.items() for k, v in entry.items()}


def _y(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float64) / 255 @ Y_COEFFS + 16


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp('allinone')
    made = {}
    for k, sigma in enumerate((15, 25, 50)):
        made[f'CBSD68 σ={sigma}'] = _pairs(root / f'cbsd68-sigma{sigma}/test',
                                           [('0', '0'), ('1', '1')], k)
        made[f'BSD68 σ={sigma}'] = _pairs(root / f'bsd68-sigma{sigma}/test',
                                          [('0', '0'), ('1', '1')], 10 + k, gray=True)
    made['Rain100L'] = _pairs(root / 'rain100l/test', [('001', '001'), ('002', '002')], 20)
    made['SOTS-outdoor'] = _pairs(root / 'sots-outdoor/test',
                                  [('0001_0.8_0.2', '0001'), ('0001_0.9_0.1', '0001'),
                                   ('0002_1_0.08', '0002')], 30)
    made['GoPro'] = _pairs(root / 'gopro/test', [('GOPR0384_11_00_000001', ) * 2], 40)
    made['LOL'] = _pairs(root / 'lol/test', [('1', '1'), ('22', '22')], 50)
    config = root / 'student_t.py'
    config.write_text("model = dict(generator=dict(type='UniRemovalNetT'))\n")
    torch.manual_seed(0)
    net = UniRemovalNetT()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    ckpt = root / 'perturbed.pth'
    torch.save(dict(state_dict={f'generator.{k}': v for k, v in net.state_dict().items()}),
               ckpt)
    return dict(root=root, made=made, config=str(config), ckpt=str(ckpt))


def _table(args, tmp_path, capsys):
    out = tmp_path / 'table.json'
    assert tool.main([*args, '--json', str(out), '--device', 'cpu']) == 0
    return json.loads(out.read_text()), capsys.readouterr().out


def test_3task_identity_equals_input_and_conventions_match_hand_computation(
        data, tmp_path, capsys):
    doc, text = _table(['--data-root', str(data['root']), '--setting', '3task',
                        '--model', f"T={data['config']}"], tmp_path, capsys)
    names = [c['name'] for c in doc['columns']]
    assert names == ['CBSD68 σ=15', 'CBSD68 σ=25', 'CBSD68 σ=50', 'Rain100L', 'SOTS-outdoor']
    assert [c['space'] for c in doc['columns']] == ['RGB', 'RGB', 'RGB', 'Y', 'RGB']
    assert doc['columns'][-1]['images'] == 3  # two hazy images share one clear image
    scores = doc['results']['Input']['scores']
    for name in names:
        pairs = data['made'][name]
        if name == 'Rain100L':
            hand = np.mean([_psnr(_y(lq), _y(gt)) for lq, gt in pairs])
            rgb = np.mean([_psnr(lq, gt) for lq, gt in pairs])
            assert abs(hand - rgb) > 0.5  # the fixture tells Y from RGB
        else:
            hand = np.mean([_psnr(lq, gt) for lq, gt in pairs])
        assert scores[name]['psnr'] == pytest.approx(hand, abs=1e-3), name
        assert 0 < scores[name]['ssim'] < 1
    identity = doc['results']['T']
    for name in names:
        assert identity['scores'][name] == pytest.approx(scores[name], abs=1e-9)
    average = np.mean([scores[n]['psnr'] for n in names])
    assert doc['results']['Input']['average']['psnr'] == pytest.approx(average)
    assert identity['params'] > 0 and identity['macs'] > 0
    assert doc['results']['Input']['params'] is None
    # the markdown table states the channels per column
    header = text.splitlines()[0]
    assert '| Rain100L (Y) |' in header and '| SOTS-outdoor (RGB) |' in header
    assert 'Average' in header and 'GMACs' in header
    assert len([line for line in text.splitlines() if line.startswith('| ')]) == 3


def test_5task_grey_bsd68_checkpoint_tiles_and_max_images(data, tmp_path, capsys):
    args = ['--data-root', str(data['root']), '--setting', '5task', '--bsd68', 'gray',
            '--max-images', '1', '--no-cost', '--model', f"T={data['config']}",
            '--model', f"P={data['config']}:{data['ckpt']}"]
    doc, _ = _table(args, tmp_path, capsys)
    assert [c['name'] for c in doc['columns']] == \
        ['BSD68 σ=25', 'Rain100L', 'SOTS-outdoor', 'GoPro', 'LOL']
    assert doc['columns'][0]['space'] == 'grey'
    assert all(c['images'] == 1 for c in doc['columns'])
    lq, gt = data['made']['BSD68 σ=25'][0]
    assert lq.ndim == 2
    inp = doc['results']['Input']['scores']
    assert inp['BSD68 σ=25']['psnr'] == pytest.approx(_psnr(lq, gt), abs=1e-3)
    lq, gt = data['made']['LOL'][0]
    assert inp['LOL']['psnr'] == pytest.approx(_psnr(lq, gt), abs=1e-3)
    assert _flat(doc['results']['T']['scores']) == pytest.approx(_flat(inp))
    # a loaded checkpoint is used: the perturbed network is no longer the identity
    assert doc['results']['P']['scores']['GoPro']['psnr'] != \
        pytest.approx(inp['GoPro']['psnr'], abs=1e-3)
    assert doc['results']['T']['macs'] is None  # --no-cost


def test_tiled_identity_and_explicit_set(data, tmp_path, capsys):
    sots = data['root'] / 'sots-outdoor/test'
    doc, _ = _table(['--set', f'hazy={sots}:reside', '--set', f'rainY={data["root"]}/'
                     'rain100l/test::y', '--tile', '8', '--overlap', '4', '--no-cost',
                     '--model', f"T={data['config']}"], tmp_path, capsys)
    assert [c['space'] for c in doc['columns']] == ['RGB', 'Y']
    assert _flat(doc['results']['T']['scores']) == \
        pytest.approx(_flat(doc['results']['Input']['scores']))


def test_errors_are_one_line(data, tmp_path):
    with pytest.raises(SystemExit, match='not found'):
        tool.main(['--data-root', str(tmp_path), '--setting', '3task', '--no-input',
                   '--model', f"T={data['config']}"])
    with pytest.raises(SystemExit, match='config file not found'):
        tool.main(['--set', f"x={data['root']}/lol/test", '--model', 'T=nope.py'])
    bad = tmp_path / 'bad'
    _pairs(bad, [('1', '1')], 0)
    (bad / 'lq/1.png').write_bytes((bad / 'lq/1.png').read_bytes()[:50])
    with pytest.raises(SystemExit, match=str(bad / 'lq/1.png')):
        tool.main(['--set', f'x={bad}', '--no-cost'])
    expected = ('N', 'mmagic::nafnet/x.py', 'ck.pth')
    assert tool.parse_model('N=mmagic::nafnet/x.py:ck.pth') == expected
    assert tool.parse_model('N=mmagic::nafnet/x.py') == ('N', 'mmagic::nafnet/x.py', None)
