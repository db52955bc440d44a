# Uni-Removal stage 2: output distribution calibration on unpaired real photos.
# Starts from a stage-1 checkpoint (model.init_checkpoint: a file, or a work dir for its
# latest checkpoint) and adapts the student with a spectral-norm PatchGAN discriminator
# (LSGAN), a content term to the frozen stage-1 output, an identity term on clean photos
# and CGCL (docs/method.md):
#   python tools/train.py configs/uniremoval_stage1.py          # stage 1 first
#   python tools/train.py configs/uniremoval_stage2.py
# Data: real degraded photos (one folder per kind) and real clean photos, from
# ../shared/realdata/unpaired when present, else the embedded demo set; plus the demo's
# clean photos as more "real clean" examples. The real photos are split BY FILE into a
# train part and a held-out test part (`test_files` below, fixed): training and
# validation see the train part only, tools/test.py the test part only. The DAWN
# acceptance set is test-only (never trained on, nothing tuned on it).
# Test (no ground truth): NIQE and dark-channel haze density per folder for the input,
# the stage-1 output and the stage-2 output, in one run, on the held-out photos
# (`heldout/...`) and on DAWN fog (`dawn/...`):
#   python tools/test.py configs/uniremoval_stage2.py work_dirs/uniremoval_stage2/iter_N.pth
# Full-reference check on pairs: add --paired-folder ROOT LQ GT (see docs/method.md).
_base_ = './_base_/synthetic_restoration.py'

experiment_name = 'uniremoval_stage2'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 2000
batch_size = 12  # about two of each kind per batch (DegradationBalancedBatchSampler)
crop_size = 96  # used by both training datasets' pipelines (override those to change it)
real_unpaired = '../shared/realdata/unpaired'
unpaired_roots = [real_unpaired, 'data/demo/unpaired']
folders = dict(hazy='haze', rainy='rain', blurry='blur', noisy='noise', mixed='mixed',
               clean='clean')
acceptance_sets = ['dawn_fog', 'dawn']  # never trained on (see ../shared/realdata)
# test-only here: images/*.jpg, its acceptance set (split='dawn-acceptance', 192 photos;
# the calibration pool is configs/uniremoval_stage2_real-fog.py's training data)
dawn_root = '../shared/realdata/detection/dawn_fog'
# The held-out test part of ../shared/realdata/unpaired, by file, fixed. Rule it was made
# by: per folder, file names sorted (C locale), index i with i % 3 == 1 goes to test; a
# folder with a single photo (noisy/) is test-only. clean/00001.png and mixed/00001.png
# show the same scene and both stay in train. Train: everything else (15 hazy, 1 rainy,
# 3 blurry, 0 noisy, 11 mixed, 1 clean + the 5 demo clean photos); test: 7 / 1 / 1 / 1 /
# 6 / 1. Never choose a weight, a checkpoint or an iteration count on this part or DAWN.
test_files = dict(
    hazy=['NYU2_741_7_2.jpg', 'indoor.jpg', 'test10.jpg', 'test13.jpg', 'test17.bmp',
          'test4.jpg', 'test7.jpg'],
    rainy=['rain-020.png'],
    blurry=['engagement.jpg'],
    noisy=['nafnet_noisy.png'],
    mixed=['00006.jpg', '179.png', '3_rain.png', 'IMG_6444.jpg', 'lol_1.png', 'sailing2.png'],
    clean=['00002.png'])

model = dict(
    type='UniRemovalCalibrator',
    generator=dict(type='UniRemovalNetS'),
    init_checkpoint='work_dirs/uniremoval_stage1',
    discriminator=dict(type='SNPatchDiscriminator', base_channels=32, num_conv=3),
    gan_loss=dict(type='GANLoss', gan_type='lsgan', real_label_val=1.0, fake_label_val=0.0,
                  loss_weight=0.05),
    content_loss=dict(type='CharbonnierLoss', loss_weight=1.0),
    identity_loss=dict(type='CharbonnierLoss', loss_weight=0.5),
    # CGCL's weight is bounded by the content it may cost: at 0.1 and 0.01 it took 1.4-3.0
    # and up to 0.9 dB off real pairs; 0.001 stays within 0.3 dB
    # (docs/experiments/2026-12-07_recipes.md)
    # embedding: 'stats' (a hand-made 7-number statistic), 'discriminator' (the live
    # discriminator's pooled features; configs/ablations/stage2_cpu_gan-cgcl-disc.py) or a
    # frozen encoder config (with layers=...)
    cgcl=dict(type='CGCLLoss', num_degraded_clusters=5, momentum=0.9, temperature=0.1,
              embedding='stats', loss_weight=0.001),
    degradation_types=('haze', 'rain', 'blur', 'noise', 'mixed'),
    clean_type='clean',
    disc_steps=1,
    disc_init_steps=0,
    data_preprocessor={{_base_.data_preprocessor}})

train_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb', on_error='skip'),
    dict(type='Crop', keys=['img'], crop_size=(crop_size, crop_size), random_crop=True),
    dict(type='Flip', keys=['img'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
test_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb'),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
train_dataloader = dict(
    num_workers=1,
    batch_size=batch_size,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='DegradationBalancedBatchSampler'),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(type='UnpairedFolderDataset', data_root=unpaired_roots, folders=folders,
                 exclude=acceptance_sets, exclude_files=test_files, skip_missing=True,
                 pipeline=train_pipeline),
            dict(type='UnpairedFolderDataset', data_root='data/demo/clean',
                 folders=dict(train='clean'), pipeline=train_pipeline),
        ]))
# validation: the train part, whole photos (in-sample: where a weight may be chosen)
val_dataloader = dict(
    num_workers=0, persistent_workers=False, drop_last=False, batch_size=1,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='UnpairedFolderDataset', data_root=unpaired_roots, folders=folders,
                 exclude=acceptance_sets, exclude_files=test_files, skip_missing=True,
                 pipeline=test_pipeline))
val_evaluator = [dict(type='NoReferenceQuality')]
# test: the held-out part of the real photos, then DAWN fog (both need ../shared/realdata)
test_dataloader = [
    dict(num_workers=0, persistent_workers=False, drop_last=False, batch_size=1,
         sampler=dict(type='DefaultSampler', shuffle=False),
         dataset=dict(type='UnpairedFolderDataset', data_root=real_unpaired, folders=folders,
                      files=test_files, pipeline=test_pipeline)),
    dict(num_workers=0, persistent_workers=False, drop_last=False, batch_size=1,
         sampler=dict(type='DefaultSampler', shuffle=False),
         dataset=dict(type='UnpairedFolderDataset', data_root=dawn_root,
                      folders=dict(images='dawn_fog'), split='dawn-acceptance',
                      pipeline=test_pipeline)),
]
test_evaluator = [[dict(type='NoReferenceQuality', prefix='heldout')],
                  [dict(type='NoReferenceQuality', prefix='dawn')]]
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)

# One optimiser per player; both skip (and count) non-finite steps. With --amp (or
# type='NonFiniteGuardAmpOptimWrapper', loss_scale='dynamic' for each) both run in mixed
# precision, each with its own GradScaler, and keep the guard.
optim_wrapper = dict(
    _delete_=True,
    constructor='MultiOptimWrapperConstructor',
    generator=dict(type='NonFiniteGuardOptimWrapper', max_skips=50,
                   optimizer=dict(type='Adam', lr=2e-5, betas=(0.9, 0.99))),
    discriminator=dict(type='NonFiniteGuardOptimWrapper', max_skips=50,
                       optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.99))))
param_scheduler = None
# test/val pictures: input | stage-1 output | stage-2 output (no ground truth here)
visualizer = dict(fn_key='img_path', img_keys=['input', 'stage1_img', 'pred_img'])
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=4, save_best=None),
                     logger=dict(interval=50))
randomness = dict(seed=0)
