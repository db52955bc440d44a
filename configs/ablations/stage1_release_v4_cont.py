# The control of the fifth recipe's warm start (configs/ablations/stage1_release_v5_warm.py):
# the fourth recipe's student trained 2 000 iterations more at half the peak learning rate
# with the fourth recipe's own Charbonnier loss. Everything else equals v5_warm (start,
# data, seed, schedule, teachers, IGCL), so v5_warm minus this run is the PSNR loss alone
# and this run minus the fourth recipe is the extra iterations alone
# (docs/experiments/2026-12-07_recipes.md, "A fifth CPU recipe").
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v4.py
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v4_cont.py
_base_ = ['./stage1_release_v4.py']

experiment_name = 'stage1_release_v4_cont'
work_dir = f'./work_dirs/{experiment_name}'
load_from = 'work_dirs/stage1_release_v4/iter_2000.pth'
optim_wrapper = dict(optimizer=dict(lr=5e-4))
