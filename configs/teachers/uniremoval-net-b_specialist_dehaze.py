# Pre-train a specialist teacher of our own architecture (UniRemovalNet-B) on ONE
# synthetic degradation, for degradations that have no public weights here. Haze by
# default; uniremoval-net-b_specialist_deblur.py is the delta for blur. Clean photos come
# from the dataloaders' data_root (default: the embedded demo set,
# `python tools/misc/build_demo_data.py`); degraded inputs are made on the fly (seeded per
# image for validation). Schedule and pipeline: ../_base_/synthetic_restoration.py.
#   python tools/train.py configs/teachers/uniremoval-net-b_specialist_dehaze.py
# Then use it as a teacher: dict(type='FrozenTeacher', model=dict(type='UniRemovalNetB'),
#   checkpoint='work_dirs/uniremoval-net-b_specialist_dehaze/iter_20000.pth').
_base_ = '../_base_/synthetic_restoration.py'

experiment_name = 'uniremoval-net-b_specialist_dehaze'
work_dir = f'./work_dirs/{experiment_name}'
degradation_types = ['haze']

model = dict(
    type='BaseEditModel',
    generator=dict(type='UniRemovalNetB'),
    pixel_loss=dict(type='CharbonnierLoss', loss_weight=1.0, reduction='mean'),
    train_cfg=dict(),
    test_cfg=dict(),
    data_preprocessor={{_base_.data_preprocessor}})

val_pipeline = [
    dict(type='LoadImageChecked', key='gt', channel_order='rgb'),
    dict(type='AddTypedDegradation', seed=0, src_key='gt', dst_key='img'),
    dict(type='PackInputs', meta_keys={{_base_.meta_keys}}),
]

train_dataloader = dict(
    num_workers=2,
    batch_size=8,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SyntheticPairedDataset',
        data_root='data/demo/clean/train',
        degradation_types=degradation_types,
        pipeline={{_base_.train_pipeline}}))
# the training set's synthesis on the validation photos, seeded per image (val_pipeline)
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(train_dataloader['dataset'], data_root='data/demo/clean/val',
                 pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = [dict(type='PSNR'), dict(type='SSIM')]
test_evaluator = val_evaluator
