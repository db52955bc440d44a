# The 3-task stage 2 on 8 GPUs x 12 crops, from the 8-GPU stage 1, AMP:
#   tools/dist_train.sh configs/allinone/uniremoval-s_stage2_3task_8xb12-20k.py 8
# Worth it only with a large real set (thousands of photos per kind). The wrapper: see
# ./_base_/calibrator_8gpu.py. The GAN rates stay those of one GPU (they are not scaled
# with the batch); --auto-scale-lr scales them from base_batch_size=96.
_base_ = ['./uniremoval-s_stage2_3task_1xb12-20k.py', './_base_/calibrator_8gpu.py']

experiment_name = 'uniremoval-s_stage2_3task_8xb12-20k'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(init_checkpoint='work_dirs/uniremoval-s_stage1_3task_8xb8-400k')
auto_scale_lr = dict(enable=False, base_batch_size=96)
