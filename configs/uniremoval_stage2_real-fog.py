# Stage 2 as calibration to real fog: the released student, adapted on unlabelled real
# foggy photos (DAWN's calibration pool, fit fold) against real clean photos, with
# priors that keep tone, black level and colour, and rehearsal on synthetic pairs made
# from the clean photos (outdoor fog, noise, rain, mixed) so that what stage 1 learnt
# stays. The formulas and why: docs/method.md ("Stage 2 on real fog").
#   python tools/train.py configs/uniremoval_stage2_real-fog.py
#   python tools/model_converters/publish_student.py \
#       work_dirs/uniremoval_stage2_real-fog/iter_200.pth calibrated.pth
# Data: DAWN fog photos whose number is divisible by 3 and not by 9
# (`split='dawn-calibration-fit'`, 77 photos, used without their boxes); the 31 of the
# 'tune' fold are where variants are compared; the 192 others are the acceptance set,
# never trained or tuned on (uniremoval_mm/datasets/realdata_splits.py). Clean photos:
# data/clean_photos_plus (tools/dataset_converters/collect_clean_photos.py).
_base_ = './uniremoval_stage2.py'

experiment_name = 'uniremoval_stage2_real-fog'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 200
batch_size = 8  # 4 foggy + 4 clean crops (DegradationBalancedBatchSampler)
crop_size = 128
dawn_images = '../shared/realdata/detection/dawn_fog/images'
clean_photos = 'data/clean_photos_plus'
work_side = 640  # photos are shrunk to this longer side first, as tools restore them

model = dict(
    init_checkpoint='checkpoints/uniremoval-net-s_stage1-cpu.pth',
    # the discriminator is what removes real fog here (the stage-1 output it is anchored
    # to barely does on DAWN); at 0.02 it moved too little against the priors
    gan_loss=dict(loss_weight=0.06),
    # detail of the stage-1 output (above a 4-px low-pass), not its tone
    content_loss=dict(type='CharbonnierLoss', loss_weight=1.0),
    content_highpass_sigma=4.0,
    # at brightness 2.0 (ratio 0.9, blocks 0.75) and colour 2.0 the output stayed at its
    # input (local contrast 1.01x on the tune fold): the bounds below are the bar's
    priors=dict(type='RealPhotoPriorLoss', brightness_weight=1.0, brightness_ratio=0.85,
                block_ratio=0.6, block=16, black_weight=1.0, black_level=0.08,
                colour_weight=1.0, colour_margin=0.0),
    rehearsal=dict(
        degradations=[
            dict(type='AddOutdoorFog'),
            dict(type='AddNoise'),
            dict(type='AddRain'),
            dict(type='AddMixedDegradation', num_range=(2, 3), transforms=[
                dict(type='AddOutdoorFog'), dict(type='AddRain'), dict(type='AddBlur'),
                dict(type='AddNoise')]),
        ],
        loss=dict(type='CharbonnierLoss', loss_weight=1.0)),
    identity_loss=dict(type='CharbonnierLoss', loss_weight=0.5),
    cgcl=dict(type='CGCLLoss', num_degraded_clusters=1, momentum=0.9, temperature=0.1,
              embedding='stats', loss_weight=0.001),
    degradation_types=('haze', ))

train_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb', on_error='skip'),
    dict(type='Resize', keys=['img'], scale=(work_side, work_side), keep_ratio=True),
    dict(type='Crop', keys=['img'], crop_size=(crop_size, crop_size), random_crop=True),
    dict(type='Flip', keys=['img'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
test_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb'),
    dict(type='Resize', keys=['img'], scale=(work_side, work_side), keep_ratio=True),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
train_dataloader = dict(
    batch_size=batch_size,
    dataset=dict(
        _delete_=True,
        type='ConcatDataset',
        datasets=[
            dict(type='UnpairedFolderDataset', data_root=dawn_images, folders=dict(
                {'.': 'haze'}), split='dawn-calibration-fit', pipeline=train_pipeline),
            dict(type='UnpairedFolderDataset', data_root=clean_photos,
                 folders=dict({'.': 'clean'}), pipeline=train_pipeline),
        ]))
# no validation loop: a run is judged on the tune fold by
# tools/analysis_tools/real_photo_table.py (the acceptance set only once, at release)
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = [
    dict(num_workers=0, persistent_workers=False, drop_last=False, batch_size=1,
         sampler=dict(type='DefaultSampler', shuffle=False),
         dataset=dict(type='UnpairedFolderDataset', data_root=dawn_images,
                      folders=dict({'.': 'haze'}), split='dawn-acceptance',
                      pipeline=test_pipeline)),
]
test_evaluator = [[dict(type='NoReferenceQuality', prefix='dawn-acceptance')]]
# the generator learns 5x faster than the base stage 2 (2e-5): 200 iterations on a CPU
optim_wrapper = dict(generator=dict(optimizer=dict(lr=1e-4)))
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=100, max_keep_ckpts=3),
                     logger=dict(interval=10))
