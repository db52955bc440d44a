# Control of configs/uniremoval_stage2_real-fog.py: the same calibration without the
# real-photo priors (brightness, black level, colour); everything else identical.
_base_ = '../uniremoval_stage2_real-fog.py'
experiment_name = 'stage2_real-fog_no-priors'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(priors=None)
