"""Progress of training, validation and testing: a progress bar, a JSON file, or both."""
import json
import os
import time
from pathlib import Path
from typing import Any, Dict, Optional

from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from ...utils.arg_checks import at_least


def _loop_length(loop) -> Optional[int]:
    """Batches in one pass of a val / test loop (mmengine's or mmagic's multi-loader)."""
    loaders = getattr(loop, 'dataloaders', None)
    if loaders is None:
        loader = getattr(loop, 'dataloader', None)
        loaders = [] if loader is None else [loader]
    try:
        return sum(len(d) for d in loaders) or None
    except TypeError:  # a loader without a length
        return None


@HOOKS.register_module()
class ProgressHook(Hook):
    """Shows how far a run is: a ``tqdm`` bar, and/or a small JSON file for other processes.

    mmengine's logger prints a line every ``interval`` iterations; this hook adds what a
    person watching wants (a bar with rate and ETA for training, validation and testing)
    and what a parent process needs (``tools/demo.py`` runs trainings side by side and
    draws their bars from the files). On rank 0 only.

    The file is replaced atomically after each update, as
    ``{"phase": "train", "done": 12, "total": 200, "loss": 0.31, "elapsed": 8.2,
    "finished": false}``; ``phase`` is ``train``, ``val`` or ``test``, and ``finished``
    becomes true after the run.

    Args:
        bar (bool | None): Draw a bar on stderr. None draws it only when stderr is a
            terminal. Defaults to None.
        progress_file (str, optional): Path of the JSON file; relative paths are under the
            work dir. None writes none. Defaults to None.
        interval (int): Update every this many iterations (the last one always).
            Defaults to 1.
        loss_key (str): Training output shown next to the bar and written to the file.
            Defaults to ``'loss'``.
    """

    priority = 'VERY_LOW'

    def __init__(self,
                 bar: Optional[bool] = None,
                 progress_file: Optional[str] = None,
                 interval: int = 1,
                 loss_key: str = 'loss') -> None:
        self.bar = bar
        self.progress_file = progress_file
        self.interval = at_least('ProgressHook.interval', interval)
        self.loss_key = loss_key
        self._path: Optional[Path] = None
        self._bar = None
        self._state: Dict[str, object] = {}
        self._start = time.time()
        self._done = 0
        self._saved: tuple = ({}, 0)  # training's state while a validation runs
        self._train_bar = None

    # ------------------------------------------------------------------ helpers
    def _is_main(self, runner: Any) -> bool:
        return getattr(runner, 'rank', 0) == 0

    def _begin(self, runner: Any, phase: str, total: Optional[int], done: int = 0) -> None:
        if not self._is_main(runner):
            return
        if self.progress_file and self._path is None:
            path = Path(self.progress_file)
            self._path = path if path.is_absolute() else Path(runner.work_dir) / path
            self._path.parent.mkdir(parents=True, exist_ok=True)
        self._close_bar()
        self._done = done
        self._state = dict(phase=phase, done=done, total=total, loss=None,
                           elapsed=round(time.time() - self._start, 1), finished=False)
        if self.bar is not False:
            from tqdm import tqdm
            self._bar = tqdm(total=total, initial=done, desc=phase, unit='it',
                             dynamic_ncols=True, leave=phase == 'train',
                             disable=None if self.bar is None else False)
        self._write()

    def _step(self, runner: Any, done: int, loss: Optional[float] = None) -> None:
        if not self._is_main(runner):
            return
        total = self._state.get('total')
        last = total is not None and done >= total
        if done % self.interval and not last:
            return
        if self._bar is not None:
            self._bar.update(done - self._done)
            if loss is not None:
                self._bar.set_postfix({self.loss_key: f'{loss:.4g}'}, refresh=False)
        self._done = done
        self._state.update(done=done, elapsed=round(time.time() - self._start, 1))
        if loss is not None:
            self._state['loss'] = loss
        self._write()

    def _write(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_name(self._path.name + '.tmp')
        tmp.write_text(json.dumps(self._state))
        os.replace(tmp, self._path)

    def _close_bar(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # ------------------------------------------------------------------ training
    def before_train(self, runner: Any) -> None:
        self._start = time.time()
        self._begin(runner, 'train', runner.max_iters, done=runner.iter)

    def after_train_iter(self, runner: Any, batch_idx: int,
                         data_batch: Optional[dict] = None, outputs: Any = None) -> None:
        loss = None
        if isinstance(outputs, dict) and self.loss_key in outputs:
            value = outputs[self.loss_key]
            loss = float(value.item() if hasattr(value, 'item') else value)
        self._step(runner, runner.iter + 1, loss)

    def after_train(self, runner: Any) -> None:
        self._finish(runner)

    # ------------------------------------------------------------------ val / test
    # mmengine's Hook routes before_{val,test}_epoch, after_{val,test}_iter and
    # after_{val,test}_epoch to these three with ``mode`` (as its IterTimerHook uses
    # them); training's iterations have after_train_iter above, its epochs nothing.
    def _before_epoch(self, runner: Any, mode: str = 'train') -> None:
        if mode != 'train':
            self._begin_eval(runner, mode, getattr(runner, f'{mode}_loop'))

    def _after_iter(self, runner: Any, batch_idx: int, data_batch: Optional[dict] = None,
                    outputs: Any = None, mode: str = 'train') -> None:
        if mode != 'train':
            self._step(runner, self._done + 1)

    def _after_epoch(self, runner: Any, mode: str = 'train') -> None:
        if mode == 'train':
            return
        self._end_eval(runner)
        if mode == 'test':
            self._finish(runner)

    def _begin_eval(self, runner: Any, phase: str, loop: Any) -> None:
        self._saved = dict(self._state), self._done
        self._train_bar, self._bar = self._bar, None  # the training bar stays open
        self._begin(runner, phase, _loop_length(loop))

    def _end_eval(self, runner: Any) -> None:
        if not self._is_main(runner):
            return
        self._close_bar()
        self._bar, self._train_bar = self._train_bar, None
        state, done = self._saved
        if state.get('phase') == 'train':  # back to training: its progress again
            self._state, self._done = state, done
            self._write()

    def _finish(self, runner: Any) -> None:
        if not self._is_main(runner):
            return
        self._close_bar()
        self._state.update(finished=True, elapsed=round(time.time() - self._start, 1))
        self._write()
