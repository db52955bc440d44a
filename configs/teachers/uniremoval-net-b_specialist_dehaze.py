# Pre-train a specialist teacher of our own architecture (UniRemovalNet-B) on ONE
# synthetic degradation, for degradations that have no public weights here. Haze by
# default; uniremoval-net-b_specialist_deblur.py is the delta for blur. Clean photos come
# from `data_root` (default: the embedded demo set, `python tools/misc/build_demo_data.py`);
# degraded inputs are made on the fly (seeded per image for validation).
#   python tools/train.py configs/teachers/uniremoval-net-b_specialist_dehaze.py
# Then use it as a teacher: dict(type='FrozenTeacher', model=dict(type='UniRemovalNetB'),
#   checkpoint='work_dirs/uniremoval-net-b_specialist_dehaze/iter_20000.pth').
_base_ = 'mmagic::_base_/default_runtime.py'
custom_imports = dict(imports=['uniremoval_mm'], allow_failed_imports=False)

experiment_name = 'uniremoval-net-b_specialist_dehaze'
work_dir = f'./work_dirs/{experiment_name}'
data_root = 'data/demo/clean'
degradation_types = ['haze']
max_iters = 20000

model = dict(
    type='BaseEditModel',
    generator=dict(type='UniRemovalNetB'),
    pixel_loss=dict(type='CharbonnierLoss', loss_weight=1.0, reduction='mean'),
    train_cfg=dict(),
    test_cfg=dict(),
    data_preprocessor=dict(type='DataPreprocessor', mean=[0.0] * 3, std=[255.0] * 3))

meta_keys = ['degradation_type', 'degradations']
train_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='Crop', keys=['gt'], crop_size=(128, 128), random_crop=True),
    dict(type='Flip', keys=['gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='AddTypedDegradation', src_key='gt', dst_key='img'),
    dict(type='PackInputs', meta_keys=meta_keys),
]
val_pipeline = [
    dict(type='LoadImageFromFile', key='gt', channel_order='rgb'),
    dict(type='AddTypedDegradation', seed=0, src_key='gt', dst_key='img'),
    dict(type='PackInputs', meta_keys=meta_keys),
]

train_dataloader = dict(
    num_workers=2,
    batch_size=8,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SyntheticPairedDataset',
        data_root=f'{data_root}/train',
        degradation_types=degradation_types,
        pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SyntheticPairedDataset',
        data_root=f'{data_root}/val',
        degradation_types=degradation_types,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = val_dataloader
val_evaluator = [dict(type='PSNR'), dict(type='SSIM')]
test_evaluator = val_evaluator

train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')

optim_wrapper = dict(
    constructor='DefaultOptimWrapperConstructor',
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4, betas=(0.9, 0.9)))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=False, T_max=max_iters, eta_min=1e-7)

default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=2000, by_epoch=False, save_optimizer=True,
                    max_keep_ckpts=3, out_dir='./work_dirs/'),
    logger=dict(type='LoggerHook', interval=50))
