# The 3-task stage 1 on 8 GPUs x 8 crops (64 per step), NAFNet's rate for that batch
# (lr 1e-3, mmagic's nafnet_*_8xb8-lr1e-3-400k_*.py), 400k iterations, AMP:
#   tools/dist_train.sh configs/allinone/uniremoval-s_stage1_3task_8xb8-400k.py 8
# (mmengine's pytorch launcher, one process per GPU; NNODES / NODE_RANK / MASTER_ADDR /
# PORT for several machines). Another number of GPUs: add --auto-scale-lr to scale lr by
# (GPUs x 8) / 64 (auto_scale_lr.base_batch_size).
_base_ = ['./uniremoval-s_stage1_3task_1xb8-400k.py']

experiment_name = 'uniremoval-s_stage1_3task_8xb8-400k'
work_dir = f'./work_dirs/{experiment_name}'
optim_wrapper = dict(optimizer=dict(lr=1e-3))
auto_scale_lr = dict(enable=False, base_batch_size=64)
