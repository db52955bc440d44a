# Stage 1 of Uni-Removal at paper scale on GPUs: configs/uniremoval_stage1.py's objective
# (ground truth first, reliability-weighted and bounded output KD from frozen teachers,
# IGCL in image space and in a frozen UniRemovalNet-T's features) with the schedule of
# mmagic's NAFNet / Restormer configs: 400k iterations, 128-px crops, AdamW + cosine, mixed
# precision. No data here: the setting configs (../uniremoval-s_stage1_{3,5}task_*.py)
# add the data of ./allinone_{3,5}task.py and the degradation types.
_base_ = ['../../uniremoval_stage1.py']

max_iters = 400000
val_interval = 20000

model = dict(
    generator=dict(type='UniRemovalNetS'),
    # The teachers we load (configs/_base_/teachers.py: the authors' official weights
    # through our ports; a missing file falls back as teacher_fallbacks says, with a
    # warning). The setting configs add the types without a teacher here (ground truth
    # only). Documented alternatives: mmagic's networks, by URL (fetched into torch's
    # cache on first use; offline, download them and set checkpoint= to the file):
    #   noise: mmagic::restormer/restormer_official_dfwb-color-sigma{15,25,50}.py
    #          (non-blind: one per sigma)
    #   rain:  restormer_rain13k of configs/_base_/teachers.py (Restormer, Rain13K)
    #   blur:  nafnet_gopro or restormer_gopro of configs/_base_/teachers.py (5-task)
    # e.g. a config of three lines:
    #   _base_ = ['./uniremoval-s_stage1_5task_1xb8-400k.py']
    #   model = dict(teachers=dict(blur={{_base_.nafnet_gopro}}))
    teachers=dict(_delete_=True, haze={{_base_.aodnet}}, rain={{_base_.prenet}},
                  noise={{_base_.dncnn}}),
    teacher_fallbacks=dict(_delete_=True, haze={{_base_.dark_channel_prior}}, rain=None,
                           noise=None))

# 8 crops of 128 px per GPU (NAFNet's and Restormer's per-GPU batch). lr 2e-4 for one GPU
# (Restormer / PromptIR's AdamW rate); the 8-GPU configs set NAFNet's 1e-3 for 8x8.
batch_size = 8
# the dataset: the setting configs' (their data base's allinone_train_dataset)
train_dataloader = dict(batch_size=batch_size, num_workers=8, persistent_workers=True,
                        dataset=dict(_delete_=True, type='ConcatDataset', datasets=[]))
# AMP: float16 with a dynamic loss scale; NaN/Inf losses skip the step (max_skips), fp16
# overflows are the scaler's skips (train/amp_overflow_skips), see
# configs/_base_/synthetic_restoration.py. CUDA only: on a CPU override optim_wrapper with
# type='NonFiniteGuardOptimWrapper' (and without loss_scale / dtype /
# max_consecutive_overflows).
optim_wrapper = dict(
    type='NonFiniteGuardAmpOptimWrapper',
    loss_scale='dynamic',
    dtype='float16',
    max_skips=50,
    max_consecutive_overflows=30,
    optimizer=dict(type='AdamW', lr=2e-4, weight_decay=1e-4, betas=(0.9, 0.9)))
# tools/train.py --auto-scale-lr scales lr by (GPUs x batch_size) / base_batch_size
auto_scale_lr = dict(enable=False, base_batch_size=8)
train_cfg = dict(max_iters=max_iters, val_interval=val_interval)
param_scheduler = dict(T_max=max_iters)
# The benchmarks have no validation split apart from their test sets: no checkpoint is
# chosen on them (save_best=None); report the last one.
default_hooks = dict(
    checkpoint=dict(interval=val_interval, max_keep_ckpts=3, save_best=None),
    logger=dict(interval=100))
custom_hooks = [dict(type='RestorationGridHook', max_samples=3)]
randomness = dict(seed=0)
