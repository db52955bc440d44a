# Control of configs/uniremoval_stage2_real-fog.py for the haze synthesis: rehearsal on
# the stage-1 haze (AddHaze: a near-uniform grey veil) instead of AddOutdoorFog, in the
# rehearsal and inside its mixed degradations; everything else identical.
_base_ = '../uniremoval_stage2_real-fog.py'
experiment_name = 'stage2_real-fog_old-haze'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(rehearsal=dict(degradations=[
    dict(type='AddHaze'),
    dict(type='AddNoise'),
    dict(type='AddRain'),
    dict(type='AddMixedDegradation', num_range=(2, 3), transforms=[
        dict(type='AddHaze'), dict(type='AddRain'), dict(type='AddBlur'),
        dict(type='AddNoise')]),
]))
