# Ablation of stage 1 (see stage1_cpu_full.py): output + feature distillation, no IGCL.
_base_ = './stage1_cpu_full.py'
experiment_name = 'stage1_cpu_kd-feat'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(igcl=None)
