# Uni-Removal stage 1, UniRemovalNet-S, all-in-one 3-task setting (denoise on BSD400 +
# WED with sigma in {15, 25, 50}, derain on Rain100L, dehaze on RESIDE OTS; tested on
# CBSD68 sigma 15/25/50, Rain100L (Y), SOTS-outdoor), one GPU x 8 crops of 128 px, 400k
# iterations, AMP (docs/user_guides/allinone.md):
#   python tools/train.py configs/allinone/uniremoval-s_stage1_3task_1xb8-400k.py
# Teachers: AOD-Net (haze), PReNet (rain), DnCNN-B (noise), see
# ./_base_/uniremoval-s_stage1_paper.py for the alternatives.
_base_ = ['./_base_/uniremoval-s_stage1_paper.py', './_base_/allinone_3task.py']

experiment_name = 'uniremoval-s_stage1_3task_1xb8-400k'
work_dir = f'./work_dirs/{experiment_name}'
degradation_types = ['noise', 'rain', 'haze']

model = dict(degradation_types=degradation_types)
train_dataloader = dict(dataset={{_base_.allinone_train_dataset}})
val_dataloader = {{_base_.allinone_val_dataloader}}
val_evaluator = {{_base_.allinone_val_evaluator}}
test_dataloader = {{_base_.allinone_val_dataloader}}
test_evaluator = {{_base_.allinone_val_evaluator}}
