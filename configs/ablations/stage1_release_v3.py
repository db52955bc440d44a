# The third CPU recipe (docs/experiments/2026-12-07_recipes.md, "A third CPU recipe"): the second
# recipe
# (configs/ablations/stage1_release_v2.py) with overlapping 3x3 stride-2 downsampling and
# bilinear up-sampling in the student, the one change made against the 16-px block grid
# that the first two students print on real fog. Its control is the second recipe itself
# (same data, objective, seed and iterations).
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v3.py
_base_ = ['./stage1_release_v2.py']

experiment_name = 'stage1_release_v3'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(generator=dict(down_kernel=3, upsample='bilinear'))
