# Stage 2 at CPU scale, the full method (GAN + content + identity + CGCL with its default
# 'stats' embedding and weight λ = 0.001), from the CPU-scale stage-1 run
# (stage1_cpu_full.py): 64-px crops, 2000 iterations, checkpoints every 500 for the
# ablation table of docs/experiments/2026-12-07_recipes.md (its rows use iter_500).
#   python tools/train.py configs/ablations/stage2_cpu_gan-cgcl.py
# Ablations: stage2_cpu_gan.py (no CGCL), stage2_cpu_gan-cgcl_lambda0.01.py and
# stage2_cpu_gan-cgcl_lambda0.1.py (other weights; the λ = 0.1 run to 2000 iterations is
# the stability run of docs/experiments/2026-12-07_recipes.md), stage2_cpu_gan-cgcl-disc.py (CGCL in
# the
# discriminator's features). "Stage 1 only" is the stage-1 output that every stage-2
# test run reports next to its own (NoReferenceQuality's *_stage1).
_base_ = '../uniremoval_stage2.py'

experiment_name = 'stage2_cpu_gan-cgcl'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 2000
model = dict(init_checkpoint='work_dirs/stage1_cpu_full')  # a work dir: its latest checkpoint
train_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb', on_error='skip'),
    dict(type='Crop', keys=['img'], crop_size=(64, 64), random_crop=True),
    dict(type='Flip', keys=['img'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='UnpairedFolderDataset', data_root={{_base_.unpaired_roots}},
         folders={{_base_.folders}}, exclude={{_base_.acceptance_sets}},
         exclude_files={{_base_.test_files}}, skip_missing=True, pipeline=train_pipeline),
    dict(type='UnpairedFolderDataset', data_root='data/demo/clean', folders=dict(train='clean'),
         pipeline=train_pipeline),
]))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(checkpoint=dict(interval=500, max_keep_ckpts=4), logger=dict(interval=50))
