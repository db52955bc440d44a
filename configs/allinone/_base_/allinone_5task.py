# The all-in-one 5-task setting (IDR, CVPR 2023): the 3-task data (./allinone_3task.py)
# plus GoPro deblurring and LOL low-light enhancement. As the field does, denoising is
# tested at sigma = 25 only (CBSD68; tools/analysis_tools/allinone_table.py --setting
# 5task scores the same sets); training keeps sigma in {15, 25, 50} (for the
# sigma-25-only variant some papers train, set sigma_choices=(25, ) in the AddNoise step
# of train_dataloader.dataset.datasets.0 and .1). Deraining stays on Rain100L; Rain13K
# (prepare_allinone.py rain13k writes `rain13k/train/`) is the larger alternative:
#   --cfg-options train_dataloader.dataset.datasets.2.data_root=data/allinone/rain13k/train
# Low light is a degradation type of its own, `lowlight` (LOL's our485 for training,
# eval15 for test): the model's degradation_types must list it.
_base_ = './allinone_3task.py'

allinone_root = 'data/allinone'
allinone_types = ['noise', 'rain', 'haze', 'blur', 'lowlight']
allinone_train_blur = dict(
    type='PairedFolderDataset', data_root=f'{allinone_root}/gopro/train',
    degradation_type='blur', pipeline={{_base_.allinone_paired_pipeline}})
allinone_train_lowlight = dict(
    type='PairedFolderDataset', data_root=f'{allinone_root}/lol/train',
    degradation_type='lowlight', pipeline={{_base_.allinone_paired_pipeline}})
allinone_train_dataset = dict(
    type='ConcatDataset',
    ignore_keys=['dataset_type'],
    datasets=[
        {{_base_.allinone_train_bsd400}}, {{_base_.allinone_train_wed}},
        {{_base_.allinone_train_rain}}, {{_base_.allinone_train_haze}}, allinone_train_blur,
        allinone_train_lowlight
    ])

allinone_test_sigmas = (25, )
# the test sets, picked by name from the 3-task base's tables of every set
allinone_val_dataloader = [
    {{_base_.allinone_test_loaders.cbsd68_sigma25}}, {{_base_.allinone_test_loaders.rain100l}},
    {{_base_.allinone_test_loaders.sots_outdoor}}, {{_base_.allinone_test_loaders.gopro}},
    {{_base_.allinone_test_loaders.lol}}]
allinone_val_evaluator = [
    {{_base_.allinone_test_evaluators.cbsd68_sigma25}},
    {{_base_.allinone_test_evaluators.rain100l}},
    {{_base_.allinone_test_evaluators.sots_outdoor}},
    {{_base_.allinone_test_evaluators.gopro}}, {{_base_.allinone_test_evaluators.lol}}]
