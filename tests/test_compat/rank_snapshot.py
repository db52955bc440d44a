"""A hook for the distributed test: every rank saves its weights before and after training.

Imported by the test's config (``custom_imports``) in each launched process.
"""
import json
import os

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS


@HOOKS.register_module()
class RankSnapshotHook(Hook):
    """Save ``{out_dir}/rank{RANK}_{before,after}.pth`` (the unwrapped model's state_dict).

    ``rank{RANK}_seen.json`` lists each iteration's images.

    Args:
        out_dir (str): Folder to write into.
    """

    priority = 'LOWEST'

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir
        self.seen = []

    def _save(self, runner, when: str) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        state['_wrapped'] = torch.tensor(is_model_wrapper(runner.model))
        torch.save(state, os.path.join(self.out_dir, f'rank{os.environ["RANK"]}_{when}.pth'))

    def before_train(self, runner) -> None:
        """Save the starting weights."""
        self._save(runner, 'before')

    def after_train(self, runner) -> None:
        """Save the trained weights."""
        self._save(runner, 'after')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Record the batch's image paths."""
        self.seen.append(sorted(s.img_path for s in data_batch['data_samples']))

    def after_run(self, runner) -> None:
        """Write the image paths seen."""
        with open(os.path.join(self.out_dir, f'rank{os.environ["RANK"]}_seen.json'), 'w') as f:
            json.dump(self.seen, f)
