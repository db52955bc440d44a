# The first CPU recipe: the student released first (docs/experiments/2026-12-07_recipes.md, "The
# released
# student (CPU recipe, 2 500 iterations)"; its weights were replaced by the fourth
# recipe's). Stage 1 of Uni-Removal on the 8 clean photos we first had offline, trained
# in 71 minutes on a 2-core CPU, with the S network of that time (NAFNet's sampling,
# named below so that the recipe still trains what it trained).
#   python tools/dataset_converters/collect_clean_photos.py   # data/clean_photos
#   python tools/misc/build_teacher_cache.py configs/ablations/stage1_release_v1.py
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v1.py \
#       --work-dir work_dirs/uniremoval_stage1_cpu-release
# What differs from configs/uniremoval_stage1.py, and why (docs/experiments/2026-12-07_recipes.md,
# "Stage 1"):
# - data: 8 clean photos (scikit-image's colour photos and ../shared/realdata's clean
#   ones), never the demo's validation photos or their stereo twin; 128-px crops made
#   once with their teachers' outputs (the teacher cache: teachers cost 65 % of a step),
#   flipped and transposed while training;
# - objective: the clean image first (pixel weight 1), each teacher trusted only as far
#   as it removes its input's error and only where it is still ahead of the student
#   (distill_reliability, teacher_bound), IGCL with the clean image as positive in image
#   space and in the feature hierarchy of a frozen UniRemovalNet-T of ours;
# - no feature KD (teacher features are not cached: it would cost the teachers online);
# - no checkpoint chosen on the validation pairs: they are the held-out evaluation.
_base_ = ['../uniremoval_stage1.py']

experiment_name = 'stage1_release_v1'
work_dir = f'./work_dirs/{experiment_name}'
degradation_types = ['haze', 'rain', 'blur', 'noise', 'mixed']
max_iters = 2500
batch_size = 10  # two of each type per batch (DegradationBalancedBatchSampler)

# The cache: tools/misc/build_teacher_cache.py reads this dict.
teacher_cache = dict(photo_root='data/clean_photos', out='data/teacher_cache/stage1_cpu-release',
                     samples_per_type=500, crop_size=128, seed=0,
                     degradation_types=degradation_types)
# the teachers of configs/uniremoval_stage1.py, named here so that the cache dataset can
# refuse a cache made by other teachers
teachers = dict(haze={{_base_.aodnet}}, rain={{_base_.prenet}}, noise={{_base_.dncnn}},
                blur=None)
teacher_fallbacks = dict(haze={{_base_.dark_channel_prior}}, rain=None, noise=None)
model = dict(
    generator=dict(down_kernel=2, upsample='pixelshuffle'),
    teachers=teachers,
    teacher_fallbacks=teacher_fallbacks,
    # the objective of configs/uniremoval_stage1.py: ground truth first, reliability-
    # weighted and bounded output KD, IGCL (positive: the clean image) in image space and
    # in the feature hierarchy of the frozen UniRemovalNet-T in checkpoints/
    feature_pairs=None)

train_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb'),
    dict(type='LoadImageChecked', key='gt', channel_order='rgb'),
    dict(type='LoadImageChecked', key='ref', channel_order='rgb'),
    dict(type='Flip', keys=['img', 'gt', 'ref'], flip_ratio=0.5, direction='horizontal'),
    dict(type='Flip', keys=['img', 'gt', 'ref'], flip_ratio=0.5, direction='vertical'),
    dict(type='RandomTransposeHW', keys=['img', 'gt', 'ref'], transpose_ratio=0.5),
    dict(type='PackInputs', meta_keys=['degradation_type', 'has_teacher']),
]
train_dataloader = dict(
    num_workers=1,
    batch_size=batch_size,
    dataset=dict(_delete_=True, type='TeacherCacheDataset', data_root=teacher_cache['out'],
                 teachers=teachers, teacher_fallbacks=teacher_fallbacks,
                 pipeline=train_pipeline))

train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = dict(T_max=max_iters)
default_hooks = dict(checkpoint=dict(interval=500, save_best=None, max_keep_ckpts=2),
                     logger=dict(interval=50))
randomness = dict(seed=0)
