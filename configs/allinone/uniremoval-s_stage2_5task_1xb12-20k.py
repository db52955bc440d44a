# Uni-Removal stage 2 after the 5-task stage 1, on real unpaired photos of the five kinds
# (data/allinone/real_unpaired/{hazy,rainy,noisy,blurry,lowlight,clean}/: also e.g.
# RealBlur's blurred photos, ExDark / LIME / DICM / MEF for low light), one GPU x 12 crops
# (2 of each kind + clean), 20k iterations, AMP (docs/user_guides/allinone.md):
#   python tools/train.py configs/allinone/uniremoval-s_stage1_5task_1xb8-400k.py
#   python tools/train.py configs/allinone/uniremoval-s_stage2_5task_1xb12-20k.py
# Test: CBSD68 sigma 25, Rain100L (Y), SOTS-outdoor, GoPro, LOL (PSNR / SSIM per task).
_base_ = ['./_base_/uniremoval-s_stage2_paper.py', './_base_/allinone_5task.py']

experiment_name = 'uniremoval-s_stage2_5task_1xb12-20k'
work_dir = f'./work_dirs/{experiment_name}'
degradation_types = ['noise', 'rain', 'haze', 'blur', 'lowlight']
folders = dict(hazy='haze', rainy='rain', noisy='noise', blurry='blur', lowlight='lowlight',
               clean='clean')

model = dict(
    init_checkpoint='work_dirs/uniremoval-s_stage1_5task_1xb8-400k',  # its last checkpoint
    degradation_types=degradation_types,
    cgcl=dict(num_degraded_clusters=len(degradation_types)))
train_dataloader = dict(dataset=dict(datasets=[
    dict(type='UnpairedFolderDataset', data_root={{_base_.unpaired_roots}}, folders=folders,
         exclude={{_base_.acceptance_sets}}, exclude_files={{_base_.test_files}},
         skip_missing=True, pipeline={{_base_.train_pipeline}}),
    dict(type='UnpairedFolderDataset', data_root='data/demo/clean', folders=dict(train='clean'),
         pipeline={{_base_.train_pipeline}}),
]))
val_dataloader = dict(dataset=dict(data_root={{_base_.unpaired_roots}},
                                   folders=dict(_delete_=True, **folders)))
test_dataloader = {{_base_.allinone_val_dataloader}}
test_evaluator = {{_base_.allinone_val_evaluator}}
