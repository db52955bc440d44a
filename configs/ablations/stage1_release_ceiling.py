# The specialist ceiling of the released student's network (docs/experiments/2026-12-07_recipes.md,
# "How far S
# gets on one kind"): the released recipe's objective (the fifth CPU recipe) continued
# from the released student for 1 000 iterations on ONE kind of the cache, noise by
# default. It asks whether the stage-1 bar is out of reach of UniRemovalNet-S at CPU
# scale: a network given 5 000 iterations in all, the last 1 000 on one kind only, is a
# generous upper bound on what the all-in-one student reaches on that kind with 4 000.
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_ceiling.py \
#       --work-dir work_dirs/ceiling_noise
#   ... --work-dir work_dirs/ceiling_rain \
#       --cfg-options "train_dataloader.dataset.degradation_types=['rain']"
_base_ = ['./stage1_release_v5.py']

experiment_name = 'stage1_release_ceiling'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 1000
model = dict(init_checkpoint='checkpoints/uniremoval-net-s_stage1-cpu.pth')
train_dataloader = dict(dataset=dict(degradation_types=['noise']))
optim_wrapper = dict(optimizer=dict(lr=5e-4))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = dict(T_max=max_iters)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=2))
