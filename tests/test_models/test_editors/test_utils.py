"""What the stage-1 and stage-2 editors share: the student, its optional loss and start."""
import pytest
import torch
from mmengine.registry import DefaultScope

import uniremoval_mm  # noqa: F401
from uniremoval_mm.models.editors.utils import StudentEditModel
from ...helpers import EDITOR_PREPROCESSOR, TINY_STUDENT, save_stage1_checkpoint


def _editor(**kwargs) -> StudentEditModel:
    args = dict(generator=TINY_STUDENT, pixel_loss=dict(type='L1Loss'), init_checkpoint=None,
                start_hint='a test start', data_preprocessor=EDITOR_PREPROCESSOR)
    with DefaultScope.overwrite_default_scope('mmagic'):
        return StudentEditModel(**dict(args, **kwargs))


def test_a_missing_pixel_loss_builds_nothing():
    assert _editor().use_pixel_loss
    assert type(_editor().pixel_loss).__name__ == 'L1Loss'
    editor = _editor(pixel_loss=None)
    assert not editor.use_pixel_loss
    assert editor.pixel_loss is None


def test_the_student_starts_from_the_checkpoint(tmp_path):
    source = _editor().generator
    with torch.no_grad():
        for p in source.parameters():
            p.add_(1.0)
    ckpt = save_stage1_checkpoint(source, tmp_path / 'iter_1.pth')
    editor = _editor(init_checkpoint=str(ckpt))
    for k, v in editor.generator.state_dict().items():
        torch.testing.assert_close(v, source.state_dict()[k])
    with pytest.raises(FileNotFoundError, match=r'nope.pth not found \(a test start\)'):
        _editor(init_checkpoint=str(tmp_path / 'nope.pth'))


def test_a_released_students_bare_state_dict_loads_into_the_generator(tmp_path):
    from mmengine.runner import load_checkpoint
    source = _editor().generator
    with torch.no_grad():
        for p in source.parameters():
            p.add_(0.5)
    bare = tmp_path / 'released.pth'
    torch.save({'state_dict': source.state_dict()}, bare)  # as publish_student writes it
    editor = _editor()
    load_checkpoint(editor, str(bare), map_location='cpu', strict=True)  # mmengine's loader
    for k, v in editor.generator.state_dict().items():
        torch.testing.assert_close(v, source.state_dict()[k])
    # a full editor state dict (generator.* keys) loads as before
    editor.load_state_dict(_editor().state_dict())
    assert not torch.equal(editor.generator.head.weight, source.head.weight)
    # a dict that is neither is not renamed: strict loading still names what is wrong
    partial = {k: v for k, v in source.state_dict().items() if k != 'tail.bias'}
    with pytest.raises(RuntimeError, match='generator.tail.bias'):
        _editor().load_state_dict(partial)
