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


def _checkpoint(path, value=1.0):
    torch.save({'state_dict': {'w': torch.full((64, 64), value)}, 'meta': {'iter': 1}}, path)
    return path


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    return path


def test_checkpoint_problem_finds_torn_and_corrupt_files(tmp_path):
    from uniremoval_mm.utils.checkpoint import checkpoint_problem
    good = _checkpoint(tmp_path / 'good.pth')
    assert checkpoint_problem(good) is None
    assert checkpoint_problem(tmp_path / 'missing.pth') == 'no such file'
    (tmp_path / 'empty.pth').write_bytes(b'')
    assert checkpoint_problem(tmp_path / 'empty.pth') == 'empty file'
    torn = _truncate(_checkpoint(tmp_path / 'torn.pth'))
    assert 'truncated' in checkpoint_problem(torn)
    flipped = _checkpoint(tmp_path / 'flipped.pth')
    data = bytearray(flipped.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the tensor's bytes: only the CRC notices
    flipped.write_bytes(bytes(data))
    assert 'fails its CRC check' in checkpoint_problem(flipped)
    import zipfile
    with zipfile.ZipFile(tmp_path / 'other.zip', 'w') as archive:
        archive.writestr('readme.txt', 'hello')
    assert 'not a torch checkpoint' in checkpoint_problem(tmp_path / 'other.zip')
    old = tmp_path / 'old.pth'
    torch.save({'w': torch.ones(2)}, old, _use_new_zipfile_serialization=False)
    assert checkpoint_problem(old) is None


def _work_dir(root, steps=(2, 4, 6), kind='iter'):
    root.mkdir()
    for step in steps:
        _checkpoint(root / f'{kind}_{step}.pth', float(step))
    (root / 'last_checkpoint').write_text(str(root / f'{kind}_{steps[-1]}.pth'))
    return root


def test_resume_checkpoint_takes_the_named_one_when_readable(tmp_path):
    from uniremoval_mm.utils.checkpoint import resume_checkpoint
    work = _work_dir(tmp_path / 'work')
    assert resume_checkpoint(work) == (str(work / 'iter_6.pth'), None)
    assert resume_checkpoint(tmp_path / 'fresh') == (None, None)  # nothing to resume
    assert resume_checkpoint(work, str(work / 'iter_2.pth')) == (str(work / 'iter_2.pth'), None)


def test_resume_checkpoint_falls_back_to_the_newest_readable_one(tmp_path):
    from uniremoval_mm.utils.checkpoint import resume_checkpoint
    work = _work_dir(tmp_path / 'work', steps=(2, 4, 10, 12))
    _truncate(work / 'iter_12.pth')
    _truncate(work / 'iter_10.pth')
    (work / '.iter_12.pth.abc.part').write_bytes(b'PK\x03\x04')  # a crashed atomic save
    picked, note = resume_checkpoint(work)
    assert picked == str(work / 'iter_4.pth')  # by number: 4 before 2, not 10 < 4 as text
    assert note.startswith(f'{work / "iter_12.pth"} is unreadable (truncated')
    assert note.endswith(f'resuming from {work / "iter_4.pth"}, the newest readable checkpoint')
    (work / 'last_checkpoint').write_text('')  # killed while writing the marker
    picked, note = resume_checkpoint(work)
    assert picked == str(work / 'iter_4.pth') and 'last_checkpoint is empty' in note


def test_resume_checkpoint_stops_with_one_line_naming_the_file(tmp_path):
    from uniremoval_mm.utils.checkpoint import resume_checkpoint
    work = _work_dir(tmp_path / 'work', steps=(2, ), kind='epoch')
    _truncate(work / 'epoch_2.pth')
    with pytest.raises(CheckpointError) as info:
        resume_checkpoint(work)
    message = str(info.value)
    assert '\n' not in message
    assert message.startswith(f'{work / "epoch_2.pth"}: cannot resume: truncated')
    assert 'holds no other readable iter_N.pth / epoch_N.pth' in message
    with pytest.raises(CheckpointError, match=r'epoch_2.pth: cannot resume from it: truncated'):
        resume_checkpoint(work, str(work / 'epoch_2.pth'))  # named: never swapped
