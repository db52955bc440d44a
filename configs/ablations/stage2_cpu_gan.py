# Ablation of stage 2 (see stage2_cpu_gan-cgcl.py): GAN + content + identity, no CGCL.
_base_ = './stage2_cpu_gan-cgcl.py'
experiment_name = 'stage2_cpu_gan'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(cgcl=None)
