# UniRemovalNet-T (<= 2 GMACs at 640x640) with the recipe of the S config.
_base_ = './uniremoval-net-s_1xb8-lr1e-3-400k_sidd.py'
experiment_name = 'uniremoval-net-t_1xb8-lr1e-3-400k_sidd'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(generator=dict(type='UniRemovalNetT'))
