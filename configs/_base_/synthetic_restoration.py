# The recipe shared by every restorer we train on synthetic pairs made on the fly (stage 1,
# specialist teachers): mmagic runtime, the synthesis pipeline, AdamW + cosine over
# iterations, validation with mmagic's MultiValLoop. Configs add the model, the
# degradation types and the data; they override what differs.
_base_ = 'mmagic::_base_/default_runtime.py'
custom_imports = dict(imports=['uniremoval_mm'], allow_failed_imports=False)

data_root = 'data/demo'  # built by tools/misc/build_demo_data.py
max_iters = 20000
data_preprocessor = dict(type='DataPreprocessor', mean=[0.0] * 3, std=[255.0] * 3)

meta_keys = ['degradation_type', 'degradations']
# LoadImageChecked decodes by content (grey, RGBA, palette, CMYK, 16-bit, EXIF-rotated
# photos become 8-bit RGB) and names the file and the problem; while training, a bad
# photo is skipped with a one-line warning (on_error='skip') and another one drawn.
# Validation / test loaders keep on_error='raise' (docs/user_guides/robustness.md).
train_pipeline = [
    dict(type='LoadImageChecked', key='gt', channel_order='rgb', on_error='skip'),
    dict(type='Crop', keys=['gt'], crop_size=(128, 128), random_crop=True),
    dict(type='Flip', keys=['gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='AddTypedDegradation', src_key='gt', dst_key='img'),
    dict(type='PackInputs', meta_keys=meta_keys),
]

train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=2000)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')

# NaN/Inf losses or gradients skip the step (counted in the log as train/nonfinite_skips);
# more than max_skips stop the run with a clear error.
# Mixed precision (a CUDA GPU): `tools/train.py --amp` switches to the guarded AMP wrapper,
# or set it here:
#   optim_wrapper = dict(type='NonFiniteGuardAmpOptimWrapper', loss_scale='dynamic',
#                        dtype='float16', max_skips=50, max_consecutive_overflows=30, ...)
# fp16 overflows are then the GradScaler's skips (it lowers the scale), counted apart as
# train/amp_overflow_skips; only NaN/Inf losses count against max_skips.
optim_wrapper = dict(
    constructor='DefaultOptimWrapperConstructor',
    type='NonFiniteGuardOptimWrapper',
    max_skips=50,
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=1e-4, betas=(0.9, 0.9)))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=False, T_max=max_iters, eta_min=1e-7)

# out_dir=None: checkpoints go to the run's work_dir (mmagic's runtime would put them in
# ./work_dirs/<work_dir's name>, away from the logs, whatever --work-dir says).
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=2000, by_epoch=False, save_optimizer=True,
                    max_keep_ckpts=3, out_dir=None),
    logger=dict(type='LoggerHook', interval=50))
