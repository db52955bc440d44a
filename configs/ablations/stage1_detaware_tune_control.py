# Control of the detection-aware tuning (stage1_detaware_tune.py): the same run with
# IGCL in image space only, no detector. What it differs by is the detector's views.
#   python tools/train.py configs/ablations/stage1_detaware_tune_control.py
_base_ = ['./stage1_detaware_tune.py']

experiment_name = 'stage1_detaware_tune_control'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(igcl=dict(extractor=None, layers=None, layer_weights=None))
