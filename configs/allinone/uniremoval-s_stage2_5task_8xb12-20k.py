# The 5-task stage 2 on 8 GPUs x 12 crops, from the 8-GPU stage 1, AMP:
#   tools/dist_train.sh configs/allinone/uniremoval-s_stage2_5task_8xb12-20k.py 8
# The wrapper: see ./_base_/calibrator_8gpu.py; the rates: see
# ./uniremoval-s_stage2_3task_8xb12-20k.py.
_base_ = ['./uniremoval-s_stage2_5task_1xb12-20k.py', './_base_/calibrator_8gpu.py']

experiment_name = 'uniremoval-s_stage2_5task_8xb12-20k'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(init_checkpoint='work_dirs/uniremoval-s_stage1_5task_8xb8-400k')
auto_scale_lr = dict(enable=False, base_batch_size=96)
