import pytest

from uniremoval_mm.utils.teacher_configs import missing_local_checkpoint, resolve_teachers


def test_missing_local_checkpoint_only_for_a_local_file_that_is_not_there(tmp_path):
    there = tmp_path / 'dncnn.pth'
    there.write_bytes(b'x')
    assert missing_local_checkpoint(str(there)) is None
    assert missing_local_checkpoint(str(tmp_path / 'gone.pth')) == str(tmp_path / 'gone.pth')
    assert missing_local_checkpoint('https://download.openmmlab.com/x.pth') is None  # a URL
    assert missing_local_checkpoint(None) is None and missing_local_checkpoint('') is None


def test_resolve_teachers_falls_back_per_type_and_copies(tmp_path):
    there = tmp_path / 'haze.pth'
    there.write_bytes(b'x')
    teachers = dict(haze=dict(model='AODNet', checkpoint=str(there)),
                    rain=dict(model='PReNet', checkpoint=str(tmp_path / 'gone.pth')),
                    blur=None)
    fallbacks = dict(rain=dict(model='DCP'), noise=None)
    resolved = resolve_teachers(teachers, fallbacks)
    assert resolved == dict(haze=teachers['haze'], rain=dict(model='DCP'), blur=None)
    resolved['haze']['model'] = 'changed'
    resolved['rain']['model'] = 'changed'
    assert teachers['haze']['model'] == 'AODNet' and fallbacks['rain']['model'] == 'DCP'
    # a fallback of None: ground truth only for that type
    assert resolve_teachers(dict(noise=dict(checkpoint='gone.pth')), fallbacks) == dict(noise=None)


@pytest.mark.parametrize('policy, fallbacks, message', [
    ('error', dict(rain=dict(model='DCP')),
     r'model\.teachers\.rain\.checkpoint: .*gone\.pth not found$'),
    ('fallback', {}, r"teacher_fallbacks has no entry for 'rain'"),
])
def test_resolve_teachers_errors_name_the_field(tmp_path, policy, fallbacks, message):
    teachers = dict(rain=dict(model='PReNet', checkpoint=str(tmp_path / 'gone.pth')))
    with pytest.raises(FileNotFoundError, match=message):
        resolve_teachers(teachers, fallbacks, policy)
