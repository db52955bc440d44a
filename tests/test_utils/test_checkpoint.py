"""uniremoval_mm.utils.checkpoint: the latest checkpoint of a work dir, and load_weights."""
import pytest
import torch
from torch import nn

from uniremoval_mm.utils.checkpoint import CheckpointError, latest_checkpoint, load_weights


def test_latest_checkpoint_reads_mmengines_marker(tmp_path, capsys):
    assert latest_checkpoint(tmp_path) is None  # no marker: None, and nothing printed
    assert latest_checkpoint(tmp_path / 'nowhere') is None
    ckpt = tmp_path / 'iter_7.pth'
    ckpt.write_bytes(b'')
    (tmp_path / 'last_checkpoint').write_text(f'{ckpt}\n')
    assert latest_checkpoint(tmp_path) == str(ckpt)
    assert latest_checkpoint(str(tmp_path)) == str(ckpt)
    assert capsys.readouterr().out == ''


def test_latest_checkpoint_of_a_moved_work_dir(tmp_path):
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/work_dir/iter_7.pth')
    assert latest_checkpoint(tmp_path) == str(tmp_path / 'iter_7.pth')


def test_load_weights_takes_the_generator_and_names_mismatched_keys(tmp_path):
    donor, net = nn.Conv2d(3, 3, 3), nn.Conv2d(3, 3, 3)
    ckpt = tmp_path / 'stage1.pth'
    torch.save({'state_dict': {f'generator.{k}': v for k, v in donor.state_dict().items()}},
               ckpt)
    load_weights(net, str(ckpt))
    torch.testing.assert_close(net.weight, donor.weight)
    with pytest.raises(CheckpointError, match=r"stage1.pth: keys do not match Sequential "
                       r"\(missing \['0.weight', '0.bias'\]; unexpected \['weight', 'bias'\]\)"):
        load_weights(nn.Sequential(nn.Conv2d(3, 3, 3)), str(ckpt))


def test_load_weights_names_shape_mismatches_and_changes_nothing(tmp_path):
    """A pixel-shuffle checkpoint into a bilinear network: a CheckpointError that names
    the file and the tensors, not torch's bare RuntimeError."""
    from uniremoval_mm.models import UniRemovalNet
    tiny = dict(width=4, enc_blocks=(1, 1), middle_blocks=1)
    ckpt = tmp_path / 'pixelshuffle.pth'
    torch.save({'state_dict': UniRemovalNet(**tiny).state_dict()}, ckpt)
    net = UniRemovalNet(**tiny, upsample='bilinear')
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(CheckpointError, match=r'pixelshuffle.pth: shapes do not match '
                       r'UniRemovalNet \(ups.0.0.weight: \(32, 16, 1, 1\) in the file, '
                       r'\(8, 16, 1, 1\) in the network.*upsample'):
        load_weights(net, str(ckpt))
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
