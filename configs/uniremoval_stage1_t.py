# Stage 1 with the student UniRemovalNet-T (see docs/user_guides/models.md for its cost).
_base_ = './uniremoval_stage1.py'
experiment_name = 'uniremoval_stage1_t'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(generator=dict(type='UniRemovalNetT'))
