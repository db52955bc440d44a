# Stage-1 ablation at a fixed budget (docs/experiments/2026-12-07_recipes.md, "Stage-1 ablation"):
# the first
# recipe's data and student (configs/ablations/stage1_release_v1.py: cached 128-px
# crops of data/clean_photos, UniRemovalNet-S, batch 10), 400 iterations, seed 0; this
# arm learns from the ground truth alone. The other arms add one thing each:
#   stage1_cache_kd-out.py   + output KD (reliability-weighted, bounded)
#   stage1_cache_kd-feat.py  + output KD + feature KD over two levels (teachers online)
#   stage1_cache_igcl.py     + output KD + IGCL in the T extractor's feature hierarchy
#                            (the released objective)
#   python tools/train.py configs/ablations/stage1_cache_gt.py
_base_ = './stage1_release_v1.py'

experiment_name = 'stage1_cache_gt'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 400

model = dict(distill_loss=None, igcl=None)
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
param_scheduler = dict(T_max=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
