# Control of stage1_detaware_tune_long.py: the same 400 iterations with IGCL in image
# space only, no detector (as stage1_detaware_tune_control.py is for the 200).
#   python tools/train.py configs/ablations/stage1_detaware_tune_long_control.py
_base_ = ['./stage1_detaware_tune_long.py']

experiment_name = 'stage1_detaware_tune_long_control'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(igcl=dict(extractor=None, layers=None, layer_weights=None))
