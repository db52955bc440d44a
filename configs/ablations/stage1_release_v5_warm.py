# The fifth CPU recipe (configs/ablations/stage1_release_v5.py) started from the fourth
# recipe's student after its 2 000 iterations and trained 2 000 iterations more at half
# the peak learning rate (docs/experiments/2026-12-07_recipes.md, "A fifth CPU recipe"): 4 000
# iterations in all,
# the second half with the PSNR loss. Released (configs/uniremoval_stage1_cpu-release.py).
# Not a 90-minute recipe: the two runs took 102 and 99 minutes on one thread each.
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v4.py
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v5_warm.py
# (load_from below is where the first command leaves its student; point it elsewhere with
# --cfg-options load_from=PATH)
_base_ = ['./stage1_release_v5.py']

experiment_name = 'stage1_release_v5_warm'
work_dir = f'./work_dirs/{experiment_name}'
load_from = 'work_dirs/stage1_release_v4/iter_2000.pth'
optim_wrapper = dict(optimizer=dict(lr=5e-4))
