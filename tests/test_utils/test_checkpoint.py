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
