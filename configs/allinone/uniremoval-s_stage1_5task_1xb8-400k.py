# Uni-Removal stage 1, UniRemovalNet-S, all-in-one 5-task setting (the 3-task data plus
# GoPro deblurring and LOL low light; tested on CBSD68 sigma 25, Rain100L (Y),
# SOTS-outdoor, GoPro, LOL eval15), one GPU x 8 crops of 128 px, 400k iterations, AMP
# (docs/user_guides/allinone.md):
#   python tools/train.py configs/allinone/uniremoval-s_stage1_5task_1xb8-400k.py
# Teachers: AOD-Net (haze), PReNet (rain), DnCNN-B (noise); blur and low light learn from
# the ground truth (no CPU-sized public teacher of ours; mmagic's NAFNet / Restormer GoPro
# are the documented blur alternatives, see ./_base_/uniremoval-s_stage1_paper.py).
_base_ = ['./_base_/uniremoval-s_stage1_paper.py', './_base_/allinone_5task.py']

experiment_name = 'uniremoval-s_stage1_5task_1xb8-400k'
work_dir = f'./work_dirs/{experiment_name}'
degradation_types = ['noise', 'rain', 'haze', 'blur', 'lowlight']

model = dict(degradation_types=degradation_types)
train_dataloader = dict(dataset={{_base_.allinone_train_dataset}})
val_dataloader = {{_base_.allinone_val_dataloader}}
val_evaluator = {{_base_.allinone_val_evaluator}}
test_dataloader = {{_base_.allinone_val_dataloader}}
test_evaluator = {{_base_.allinone_val_evaluator}}
