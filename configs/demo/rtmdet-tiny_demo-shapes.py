# The demo's detector (tools/demo.py, `make demo`): RTMDet-tiny from scratch on the
# embedded demo-shapes set, as ../detection/rtmdet-tiny_demo-shapes.py but 12 epochs
# instead of 60 (the cosine decay over the last 6), to fit the demo's 20 minutes on a
# 2-core CPU; validated once, at the end.
#   python tools/train.py configs/demo/rtmdet-tiny_demo-shapes.py
_base_ = '../detection/rtmdet-tiny_demo-shapes.py'

max_epochs = 12
base_lr = 0.004
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=30),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=max_epochs // 2,
         end=max_epochs, T_max=max_epochs // 2, by_epoch=True, convert_to_iter_based=True),
]
train_dataloader = dict(num_workers=1, persistent_workers=False)
val_dataloader = dict(num_workers=0, persistent_workers=False)
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         priority=49),
    dict(type='ProgressHook', progress_file='progress.json'),
]
randomness = dict(seed=0)  # the same detector on every run of the demo
