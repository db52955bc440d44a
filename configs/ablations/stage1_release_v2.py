# The second CPU recipe (docs/experiments/2026-12-07_recipes.md, "A second CPU recipe"): the first
# recipe with
# the clean images given back unchanged (clean_identity_loss), IGCL at a fifth of the
# default weight, and 2 000 iterations; measured against the first release and a
# control without clean_identity_loss. NOT released: it gains on every synthetic kind
# but loses 2.8 dB on real SOTS (blocky sky) against the first release.
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v2.py
#   ... --cfg-options model.clean_identity_loss=None   # the control
_base_ = ['./stage1_release_v1.py']

experiment_name = 'stage1_release_v2'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 2000
model = dict(igcl=dict(loss_weight=0.01),
             clean_identity_loss=dict(type='CharbonnierLoss', loss_weight=0.2))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = dict(T_max=max_iters)
default_hooks = dict(checkpoint=dict(interval=250, max_keep_ckpts=3))
