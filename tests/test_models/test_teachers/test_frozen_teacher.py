"""FrozenTeacher and external checkpoint loading: frozen, safe, clear errors."""
import hashlib
import shutil
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from uniremoval_mm.models import DnCNN, FrozenTeacher, PReNet, UniRemovalNetT
from uniremoval_mm.models.losses.utils import build_frozen
from uniremoval_mm.utils.checkpoint import CheckpointError, remap_state_dict
from ...helpers import CodeRunningPayload


def _save_state(path: Path, model: torch.nn.Module, prefix: str = '', wrap=None) -> Path:
    state = OrderedDict((prefix + k, v) for k, v in model.state_dict().items())
    torch.save({wrap: state} if wrap else state, path)
    return path


def test_frozen_no_grad_and_stays_in_eval(tmp_path):
    torch.manual_seed(0)
    src = DnCNN(depth=4, channels=8)
    ckpt = _save_state(tmp_path / 'dncnn.pth', src, prefix='module.')
    teacher = FrozenTeacher(dict(type='DnCNN', depth=4, channels=8), str(ckpt))
    assert all(not p.requires_grad for p in teacher.parameters())
    teacher.train()
    assert not teacher.training and not teacher.model.training
    bn = teacher.model.dncnn[3]
    before = bn.running_mean.clone()
    x = torch.rand(2, 3, 9, 11, requires_grad=True)
    y = teacher(x)
    assert y.grad_fn is None and y.shape == x.shape
    torch.testing.assert_close(bn.running_mean, before)  # eval: statistics untouched
    torch.testing.assert_close(y, src.eval()(x).clamp(0, 1).detach())


def test_converter_unwraps_and_strips(tmp_path):
    src = PReNet(stages=2, channels=4, res_blocks=1)
    ckpt = _save_state(tmp_path / 'p.pth', src, prefix='generator.', wrap='state_dict')
    teacher = FrozenTeacher(dict(type='PReNet', stages=2, channels=4, res_blocks=1), str(ckpt))
    for k, v in src.state_dict().items():
        torch.testing.assert_close(teacher.model.state_dict()[k], v)
    renamed = remap_state_dict({'params': {'net.a': 1}}, rename={'net.': 'body.'})
    assert dict(renamed) == {'body.a': 1}


def test_mismatched_keys_are_a_clear_error(tmp_path):
    ckpt = _save_state(tmp_path / 'other.pth', DnCNN(depth=4, channels=8))
    with pytest.raises(CheckpointError, match=r'other.pth: keys do not match PReNet'):
        FrozenTeacher(dict(type='PReNet', stages=1), str(ckpt))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match='nope.pth: checkpoint file not found'):
        FrozenTeacher(dict(type='AODNet'), str(tmp_path / 'nope.pth'))


def test_code_in_a_checkpoint_is_refused_unless_trusted(tmp_path):
    marker = tmp_path / 'ran'
    evil = tmp_path / 'evil.pth'
    state = dict(OrderedDict(DnCNN(depth=3, channels=4).state_dict()))
    torch.save({'state_dict': state, 'extra': CodeRunningPayload(marker)}, evil)
    with pytest.raises(CheckpointError, match='evil.pth: refused to load.*trusted=True'):
        FrozenTeacher(dict(type='DnCNN', depth=3, channels=4), str(evil))
    assert not marker.exists()
    FrozenTeacher(dict(type='DnCNN', depth=3, channels=4), str(evil), trusted=True)
    assert marker.exists()  # the explicit opt-in really unpickles everything


def test_sha256_is_checked(tmp_path):
    ckpt = _save_state(tmp_path / 'a.pth', DnCNN(depth=3, channels=4))
    good = hashlib.sha256(ckpt.read_bytes()).hexdigest()
    FrozenTeacher(dict(type='DnCNN', depth=3, channels=4), str(ckpt), sha256=good)
    with pytest.raises(CheckpointError, match='does not match the expected'):
        FrozenTeacher(dict(type='DnCNN', depth=3, channels=4), str(ckpt), sha256='0' * 64)


def test_url_is_downloaded_once_into_the_hub_cache(tmp_path, monkeypatch):
    src = _save_state(tmp_path / 'remote.pth', DnCNN(depth=3, channels=4))
    calls = []

    def fake_download(url, dst, progress=True):  # no network in tests
        calls.append(url)
        shutil.copy(src, dst)

    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path / 'hub'))
    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    url = 'https://example.org/weights/remote.pth'
    for _ in range(2):
        FrozenTeacher(dict(type='DnCNN', depth=3, channels=4), url)
    assert calls == [url]
    assert (tmp_path / 'hub' / 'checkpoints' / 'remote.pth').is_file()


def test_teacher_from_an_mmagic_config_file():
    from mmagic.models.editors.nafnet.nafnet_net import NAFNetLocal
    teacher = FrozenTeacher('mmagic::nafnet/nafnet_c64eb11128mb1db1111_8xb8-lr1e-3-400k_gopro.py')
    assert isinstance(teacher.model, NAFNetLocal)
    assert not teacher.has_features and teacher.feature_channels == {}
    out, feats = teacher(torch.rand(1, 3, 16, 16), return_features=True)
    assert out.shape == (1, 3, 16, 16) and feats == {}


def test_input_grad_reaches_the_input_never_the_parameters():
    teacher = FrozenTeacher(dict(type='DnCNN', depth=3, channels=4), input_grad=True)
    x = torch.rand(1, 3, 7, 9, requires_grad=True)
    out, _ = teacher(x, return_features=True)
    out.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())
    with torch.no_grad():
        assert teacher(x).grad_fn is None
    assert teacher(x.detach()).grad_fn is None  # an input that needs no gradient: no graph
    plain = FrozenTeacher(dict(type='DnCNN', depth=3, channels=4))
    assert not plain.input_grad and plain(x).grad_fn is None


def test_build_frozen_lets_gradients_through_teachers_it_wraps():
    inner = FrozenTeacher(dict(type='DnCNN', depth=3, channels=4))
    wrapper = build_frozen(torch.nn.ModuleDict(dict(net=inner)))
    assert inner.input_grad and not wrapper.training
    x = torch.rand(2, 3, 5, 7, requires_grad=True)
    wrapper['net'](x).sum().backward()
    assert x.grad.abs().sum() > 0


@pytest.mark.parametrize('layout', ['mmagic', 'plain'])
def test_build_frozen_teacher_from_a_config_and_a_checkpoint(tmp_path, layout):
    torch.manual_seed(0)
    src = UniRemovalNetT()
    with torch.no_grad():  # differ from a fresh initialisation (zero-initialised scales)
        for p in src.parameters():
            p.add_(0.1 * torch.randn_like(p))
    state = src.state_dict()
    if layout == 'mmagic':  # what mmengine saves for an mmagic edit model
        ckpt = {
            'meta': dict(epoch=0, iter=10, mmengine_version='0.10.4'),
            'state_dict': OrderedDict([('data_preprocessor.mean', torch.zeros(1, 3, 1, 1)),
                                       *(('generator.' + k, v) for k, v in state.items())]),
            'message_hub': dict(log_scalars={}),
        }
    else:
        ckpt = state
    path = tmp_path / f'{layout}.pth'
    torch.save(ckpt, path)
    extractor = build_frozen(
        dict(type='FrozenTeacher', model=dict(type='UniRemovalNetT'), checkpoint=str(path)))
    assert isinstance(extractor, FrozenTeacher) and extractor.input_grad
    for k, v in state.items():
        assert torch.equal(extractor.model.state_dict()[k], v), k
    x = torch.rand(1, 3, 11, 13)
    torch.testing.assert_close(extractor(x), src.eval()(x).clamp(0, 1).detach())
