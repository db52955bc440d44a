# The 5-task stage 1 on 8 GPUs x 8 crops (64 per step), lr 1e-3 (NAFNet's for 8x8), 400k
# iterations, AMP:
#   tools/dist_train.sh configs/allinone/uniremoval-s_stage1_5task_8xb8-400k.py 8
# Another number of GPUs: add --auto-scale-lr (lr x (GPUs x 8) / 64).
_base_ = ['./uniremoval-s_stage1_5task_1xb8-400k.py']

experiment_name = 'uniremoval-s_stage1_5task_8xb8-400k'
work_dir = f'./work_dirs/{experiment_name}'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(enable=False, base_batch_size=64)
