# Ablation of stage 1 (see stage1_cpu_full.py): output distillation (+ ground truth) only.
_base_ = './stage1_cpu_full.py'
experiment_name = 'stage1_cpu_kd-out'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(feature_pairs=None, igcl=None)
