# The blur specialist: the dehaze recipe with synthetic motion/defocus blur instead.
_base_ = './uniremoval-net-b_specialist_dehaze.py'
experiment_name = 'uniremoval-net-b_specialist_deblur'
work_dir = f'./work_dirs/{experiment_name}'
train_dataloader = dict(dataset=dict(degradation_types=['blur']))
val_dataloader = dict(dataset=dict(degradation_types=['blur']))
test_dataloader = val_dataloader
