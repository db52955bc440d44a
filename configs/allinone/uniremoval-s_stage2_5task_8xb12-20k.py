# The 5-task stage 2 on 8 GPUs x 12 crops, from the 8-GPU stage 1, AMP:
#   tools/dist_train.sh configs/allinone/uniremoval-s_stage2_5task_8xb12-20k.py 8
# See ./uniremoval-s_stage2_3task_8xb12-20k.py for the wrapper and the rates.
_base_ = ['./uniremoval-s_stage2_5task_1xb12-20k.py']

experiment_name = 'uniremoval-s_stage2_5task_8xb12-20k'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(init_checkpoint='work_dirs/uniremoval-s_stage1_5task_8xb8-400k')
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
auto_scale_lr = dict(enable=False, base_batch_size=96)
