# Stage 1 at CPU scale, the full method: output KD + feature KD + IGCL. The run behind
# the stage-1 results and ablation tables of docs/experiments/2026-12-07_recipes.md (2-core CPU):
# UniRemovalNet-S,
# 64-px crops, batch 10 (two of each type), 400 iterations, with the real teachers
# (AOD-Net, PReNet, DnCNN); blur and mixed learn from the ground truth (no blur teacher
# can be had offline, and a CPU-trained deblur specialist did not learn:
# docs/experiments/2026-12-07_recipes.md).
#   python tools/train.py configs/ablations/stage1_cpu_full.py
# Ablations: stage1_cpu_kd-out.py (output KD only), stage1_cpu_kd-feat.py (+ feature KD).
_base_ = '../uniremoval_stage1.py'

experiment_name = 'stage1_cpu_full'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 400

model = dict(
    # (student tap, teacher tap), two levels per teacher: the student's full-resolution
    # encoder and decoder features against each teacher's two hidden maps
    feature_pairs=dict(_delete_=True, haze=[('enc0', 'x4'), ('dec0', 'k')],
                       rain=[('enc0', 'res'), ('dec0', 'h')],
                       noise=[('enc0', 'mid'), ('dec0', 'last')]),
    feature_loss_weight=0.1)

train_pipeline = [
    dict(type='LoadImageChecked', key='gt', channel_order='rgb', on_error='skip'),
    dict(type='Crop', keys=['gt'], crop_size=(64, 64), random_crop=True),
    dict(type='Flip', keys=['gt'], flip_ratio=0.5, direction='horizontal'),
    dict(type='AddTypedDegradation', src_key='gt', dst_key='img'),
    dict(type='PackInputs', meta_keys=['degradation_type', 'degradations']),
]
train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = dict(T_max=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters), logger=dict(interval=20))
randomness = dict(seed=0)
