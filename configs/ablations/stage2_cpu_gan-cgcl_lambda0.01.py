# Ablation of stage 2 (see stage2_cpu_gan-cgcl.py): CGCL weight λ = 0.01 instead of 0.001.
# The docs/experiments/2026-12-07_recipes.md row "+ GAN + CGCL, λ = 0.01" is its iter_500
# checkpoint.
#   python tools/train.py configs/ablations/stage2_cpu_gan-cgcl_lambda0.01.py
_base_ = './stage2_cpu_gan-cgcl.py'
experiment_name = 'stage2_cpu_gan-cgcl_lambda0.01'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(cgcl=dict(loss_weight=0.01))
