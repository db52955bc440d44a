# The fifth CPU recipe (configs/ablations/stage1_release_v5.py) started from the fourth
# recipe's student after its 2 000 iterations (the student released on 2026-12-06) and
# trained 2 000 iterations more at half the peak learning rate: does the student gain
# from more iterations at all, 4 000 in all instead of 2 000? (docs/method.md, "A fifth
# CPU recipe"). It is not a 90-minute recipe: the two runs took about 200 minutes on one
# thread each.
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v4.py
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v5_warm.py \
#       --cfg-options load_from=work_dirs/stage1_release_v4/iter_2000.pth
_base_ = ['./stage1_release_v5.py']

experiment_name = 'stage1_release_v5_warm'
work_dir = f'./work_dirs/{experiment_name}'
load_from = 'work_dirs/stage1_release_v4/iter_2000.pth'
optim_wrapper = dict(optimizer=dict(lr=5e-4))
