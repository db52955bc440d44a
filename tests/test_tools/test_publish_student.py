"""tools/model_converters/publish_student.py: the network taken from a checkpoint."""
import pytest
import torch

from uniremoval_mm.models import UniRemovalNetT
from uniremoval_mm.utils.checkpoint import load_external_checkpoint, load_weights
from ..helpers import load_tool, perturbed_student


@pytest.fixture()
def publish():
    return load_tool('model_converters/publish_student.py').publish


def test_a_jointly_fine_tuned_detectors_restorer_is_published_alone(publish, tmp_path):
    net = perturbed_student('T')  # a new network is the identity: it would hide a bad load
    # a joint run's checkpoint: the detector, the trained restorer, its frozen initial copy
    state = {f'data_preprocessor.restorer.{k}': v for k, v in net.state_dict().items()}
    state.update({f'data_preprocessor.restorer_init.{k}': torch.zeros_like(v)
                  for k, v in net.state_dict().items()})
    state['backbone.stem.weight'] = torch.ones(2, 3)
    ckpt, out = tmp_path / 'epoch_4.pth', tmp_path / 'restorer.pth'
    torch.save(dict(state_dict=state, meta=dict(epoch=4)), ckpt)
    publish(str(ckpt), str(out), 'float32', prefix='data_preprocessor.restorer')
    raw = load_external_checkpoint(str(out))
    assert set(raw['state_dict']) == set(net.state_dict())  # the trained copy, stripped
    assert raw['meta']['dropped'] == ['backbone', 'data_preprocessor.restorer_init']
    fresh = UniRemovalNetT().eval()
    x = torch.rand(1, 3, 17, 23)
    with torch.no_grad():
        assert not torch.allclose(fresh(x), net(x), atol=1e-3)  # differs before the load
        load_weights(fresh, str(out))
        assert torch.equal(fresh(x), net(x))
    # the default prefix finds no student there, and says so with the file's name
    with pytest.raises(SystemExit, match=r'epoch_4.pth: no generator\.\* weights'):
        publish(str(ckpt), str(tmp_path / 'x.pth'))


def test_the_release_is_written_atomically(publish, tmp_path, monkeypatch):
    """A write that fails halfway keeps the previous release whole and leaves no file."""
    net = perturbed_student('T')
    ckpt, out = tmp_path / 'iter_1.pth', tmp_path / 'released' / 'student.pth'
    torch.save({'state_dict': {f'generator.{k}': v for k, v in net.state_dict().items()}}, ckpt)
    first = publish(str(ckpt), str(out))
    real_save = torch.save

    def dies_halfway(obj, f, *args, **kwargs):
        f.write(b'PK\x03\x04 partial')
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, 'save', dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        publish(str(ckpt), str(out))
    monkeypatch.setattr(torch, 'save', real_save)
    from uniremoval_mm.utils.checkpoint import file_sha256
    assert file_sha256(out) == first
    assert [p.name for p in out.parent.iterdir()] == ['student.pth']
