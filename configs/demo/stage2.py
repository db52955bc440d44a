# The demo's stage 2 (tools/demo.py, `make demo`): output distribution calibration
# (GAN + content + identity + CGCL, ../uniremoval_stage2.py) from the demo's stage-1
# student on the unpaired photos, shortened for the demo's 20 minutes.
#   python tools/train.py configs/demo/stage2.py
_base_ = '../ablations/stage2_cpu_gan-cgcl.py'

experiment_name = 'demo_stage2'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 100

model = dict(init_checkpoint='work_dirs/demo_stage1')  # a work dir: its latest checkpoint
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters, max_keep_ckpts=1),
                     logger=dict(interval=20))
custom_hooks = [dict(type='ProgressHook', progress_file='progress.json',
                     loss_key='gan.loss_g')]
