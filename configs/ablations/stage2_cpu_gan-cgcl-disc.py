# Ablation of stage 2 (see stage2_cpu_gan-cgcl.py): CGCL in a learned embedding, the live
# discriminator's features (each tap averaged per channel; prototypes detached, the
# restored image's embedding with gradient; the discriminator keeps training with its
# own optimiser). λ is a starting point: choose it on the train split (validation) or
# the public pairs, never on the held-out split or DAWN (docs/experiments/2026-12-07_recipes.md,
# Stage 2).
#   python tools/train.py configs/ablations/stage2_cpu_gan-cgcl-disc.py
_base_ = './stage2_cpu_gan-cgcl.py'
experiment_name = 'stage2_cpu_gan-cgcl-disc'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(cgcl=dict(embedding='discriminator', layers=None, loss_weight=0.01))
