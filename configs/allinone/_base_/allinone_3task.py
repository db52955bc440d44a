# The all-in-one 3-task setting (AirNet, PromptIR): the data of training, validation and
# test, read from the layouts of tools/dataset_converters/prepare_allinone.py
# (docs/user_guides/data.md, "All-in-one benchmark data"). Every key starts with `allinone_`, so
# that
# this file can sit beside a model config in `_base_` (configs/allinone/*.py wire it in):
#   train_dataloader = dict(dataset={{_base_.allinone_train_dataset}})  # after a
#   base's dataset=dict(_delete_=True, type='ConcatDataset', datasets=[])
#   val_dataloader = {{_base_.allinone_val_dataloader}}
#   val_evaluator = {{_base_.allinone_val_evaluator}}
# Training: denoising on BSD400 + WED clean photos with Gaussian noise added on the fly,
# sigma drawn per sample from {15, 25, 50}; deraining on Rain100L's training pairs
# (RainTrainL, 200); dehazing on RESIDE OTS (many hazy per clear: match='reside'). Every
# sample carries `degradation_type` (noise / rain / haze) for the distiller's teachers and
# DegradationBalancedBatchSampler (the sets' sizes differ by 1000x: the sampler, not the
# set sizes, decides the mix). Random 128-px paired crops, flips and transposes.
# Test (also validation: the benchmarks have no separate validation split, so no
# checkpoint is chosen on them): CBSD68 at sigma 15 / 25 / 50 (RGB), Rain100L (Y channel,
# the field's convention: mmagic's convert_to='Y'), SOTS-outdoor (RGB); PSNR / SSIM
# (mmagic's, no border cropped), one prefix per set, e.g. `rain100l/PSNR`.
# Data elsewhere than data/allinone: link it there (`ln -s /big/disk data/allinone`); the
# paths below are made from allinone_root when this file is read.
allinone_root = 'data/allinone'
allinone_types = ['noise', 'rain', 'haze']
allinone_crop_size = 128
allinone_train_sigmas = (15, 25, 50)
allinone_test_sigmas = (15, 25, 50)

# --- training -------------------------------------------------------------------------
# paired sets: both images loaded, one random window for both (mmagic's PairedRandomCrop
# reads results['scale']: 1 here, the images have the same size)
allinone_paired_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb', on_error='skip'),
    dict(type='LoadImageChecked', key='gt', channel_order='rgb', on_error='skip'),
    dict(type='SetValues', dictionary=dict(scale=1)),
    dict(type='PairedRandomCrop', gt_patch_size=allinone_crop_size),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='Flip', keys=['img', 'gt'], flip_ratio=0.5, direction='vertical'),
    dict(type='RandomTransposeHW', keys=['img', 'gt'], transpose_ratio=0.5),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
# clean photos: the same crops and flips as a pair (the photo is read as `img` and `gt`,
# in the paired sets' order: mmagic's DataSample.stack needs every sample of a batch to
# carry its metadata in one order), then Gaussian noise on `gt` into `img`, one sigma of
# allinone_train_sigmas per sample, drawn afresh every time the photo is used (BSD400's
# grey photos are read as RGB)
allinone_noise_pipeline = [
    *allinone_paired_pipeline[:-1],
    dict(type='AddNoise', kinds=('gaussian', ), sigma_choices=allinone_train_sigmas,
         src_key='gt', dst_key='img'),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
allinone_train_bsd400 = dict(
    type='SyntheticPairedDataset', data_root=f'{allinone_root}/bsd400/train/gt',
    degradation_types=['noise'], pipeline=allinone_noise_pipeline)
allinone_train_wed = dict(allinone_train_bsd400, data_root=f'{allinone_root}/wed/train/gt')
allinone_train_rain = dict(
    type='PairedFolderDataset', data_root=f'{allinone_root}/rain100l/train',
    degradation_type='rain', pipeline=allinone_paired_pipeline)
allinone_train_haze = dict(
    type='PairedFolderDataset', data_root=f'{allinone_root}/reside-ots/train', match='reside',
    degradation_type='haze', pipeline=allinone_paired_pipeline)
allinone_train_dataset = dict(
    type='ConcatDataset',
    ignore_keys=['dataset_type'],  # synthetic_paired and paired_folder sets mixed
    datasets=[allinone_train_bsd400, allinone_train_wed, allinone_train_rain,
              allinone_train_haze])

# --- validation and test --------------------------------------------------------------
allinone_test_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb'),
    dict(type='LoadImageChecked', key='gt', channel_order='rgb'),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
# Every paired test set of the all-in-one settings, by name (GoPro and LOL are the 5-task
# setting's, ./allinone_5task.py): its folder under allinone_root (also the metrics'
# prefix), degradation type, match rule and the metrics' colour space. A setting picks its
# sets from the loader and evaluator tables below by name, e.g.
# {{_base_.allinone_test_loaders.gopro}}: one recipe serves every set.
allinone_test_sets = dict(
    cbsd68_sigma15=('cbsd68-sigma15', 'noise', 'same', None),
    cbsd68_sigma25=('cbsd68-sigma25', 'noise', 'same', None),
    cbsd68_sigma50=('cbsd68-sigma50', 'noise', 'same', None),
    rain100l=('rain100l', 'rain', 'same', 'Y'),
    sots_outdoor=('sots-outdoor', 'haze', 'reside', None),
    gopro=('gopro', 'blur', 'same', None),
    lol=('lol', 'lowlight', 'same', None),
)


def _loader(folder, kind, match):
    return dict(
        num_workers=2, persistent_workers=False, drop_last=False, batch_size=1,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='PairedFolderDataset', data_root=f'{allinone_root}/{folder}/test',
                     match=match, degradation_type=kind, pipeline=allinone_test_pipeline))


def _evaluator(folder, space):
    return dict(type='Evaluator', metrics=[
        dict(type='PSNR', prefix=folder, convert_to=space),
        dict(type='SSIM', prefix=folder, convert_to=space)
    ])


allinone_test_loaders = {k: _loader(f, t, m) for k, (f, t, m, _) in allinone_test_sets.items()}
allinone_test_evaluators = {k: _evaluator(f, s) for k, (f, _, _, s) in allinone_test_sets.items()}
# this setting: CBSD68 at every sigma of allinone_test_sigmas, Rain100L, SOTS-outdoor
allinone_val_dataloader = [
    *[allinone_test_loaders[f'cbsd68_sigma{s}'] for s in allinone_test_sigmas],
    allinone_test_loaders['rain100l'], allinone_test_loaders['sots_outdoor']]
allinone_val_evaluator = [
    *[allinone_test_evaluators[f'cbsd68_sigma{s}'] for s in allinone_test_sigmas],
    allinone_test_evaluators['rain100l'], allinone_test_evaluators['sots_outdoor']]
