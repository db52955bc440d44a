"""What the stage-1 and stage-2 editors share."""
from typing import List, Optional

from mmagic.models.base_models import BaseEditModel
from mmagic.registry import MODELS
from mmengine.model import BaseModel
from torch import nn

from ...utils.checkpoint import latest_checkpoint, load_weights
from ...utils.teacher_configs import missing_local_checkpoint  # noqa: F401 (re-exported)


def load_student(generator: nn.Module, checkpoint: str, why: str) -> None:
    """Load a student's weights: a released file, a stage-1 checkpoint or a work dir.

    Args:
        generator (nn.Module): The student to load into.
        checkpoint (str): A released student (bare state dict), a distiller checkpoint
            (its ``generator.`` keys are taken) or a work dir (its latest checkpoint);
            read with ``weights_only=True``.
        why (str): What the start is for, said in the error when the file is missing.

    Raises:
        FileNotFoundError: If a local file or work dir does not exist (naming it).
    """
    checkpoint = latest_checkpoint(checkpoint) or checkpoint  # a work dir: its latest
    if missing_local_checkpoint(checkpoint):
        raise FileNotFoundError(f'model.init_checkpoint: {checkpoint} not found ({why})')
    load_weights(generator, checkpoint)


def _accept_bare_student(module: nn.Module, state: dict, prefix: str, *args) -> None:
    """Load pre-hook: a released student's state dict (the network's own keys, no
    ``generator.`` prefix) loads into ``module.generator``; any other dict is left alone."""
    if any(key.startswith(prefix + 'generator.') for key in state):
        return
    own = list(module.generator.state_dict())
    if own and all(prefix + key in state for key in own):
        for key in own:
            state[f'{prefix}generator.{key}'] = state.pop(prefix + key)


class StudentEditModel(BaseEditModel):
    """mmagic's ``BaseEditModel`` for a student with an optional pixel loss and start.

    Unlike mmagic's, a None ``pixel_loss`` builds nothing (``self.pixel_loss`` is None
    and ``use_pixel_loss`` False). The student (``generator``) is then loaded from
    ``init_checkpoint`` where one is given.
    ``load_state_dict`` (so mmengine's ``load_checkpoint``, ``load_from`` and mmagic's
    inferencers) also takes a released student's bare state dict: its keys go under
    ``generator.``.

    Args:
        generator (dict): The student's config.
        pixel_loss (dict, optional): The loss built as ``self.pixel_loss``; None for
            none.
        init_checkpoint (str, optional): What the student starts from (see
            :func:`load_student`); None keeps its initialisation.
        start_hint (str): What the start is for, said in the error when
            ``init_checkpoint`` is missing.
        **kwargs: ``train_cfg``, ``test_cfg``, ``init_cfg`` and ``data_preprocessor``
            of ``BaseEditModel``.

    Raises:
        FileNotFoundError: If ``init_checkpoint`` is a local path that does not exist.
    """

    def __init__(self, generator: dict, pixel_loss: Optional[dict],
                 init_checkpoint: Optional[str], start_hint: str,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None) -> None:
        # mmagic's BaseEditModel.__init__ would build a loss from None: set its fields here
        BaseModel.__init__(self, init_cfg=init_cfg, data_preprocessor=data_preprocessor)
        self.train_cfg, self.test_cfg = train_cfg, test_cfg
        self.generator = MODELS.build(generator)
        self.pixel_loss = MODELS.build(pixel_loss) if pixel_loss is not None else None
        self.use_pixel_loss = pixel_loss is not None
        self._register_load_state_dict_pre_hook(_accept_bare_student, with_module=True)
        if init_checkpoint is not None:
            load_student(self.generator, init_checkpoint, start_hint)


def sample_types(data_samples, key: str, n: int) -> List[Optional[str]]:
    """The degradation type of each of the ``n`` stacked samples (None where absent).

    Args:
        data_samples (DataSample): Stacked samples.
        key (str): Metainfo key of the type.
        n (int): Batch size.

    Returns:
        list[str | None]: One type per sample.
    """
    types = data_samples.metainfo.get(key)
    if types is None:
        return [None] * n
    return list(types) if isinstance(types, (list, tuple)) else [types] * n
