# Stage-1 ablation arm: ground truth + output KD + IGCL in image space and in the frozen
# UniRemovalNet-T's feature hierarchy: the first release's objective
# (configs/ablations/stage1_release_v1.py) at the ablation's budget; see
# stage1_cache_gt.py for the budget and the other arms.
_base_ = './stage1_release_v1.py'

experiment_name = 'stage1_cache_igcl'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 400

train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = dict(T_max=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
