# The demo's stage 1 (tools/demo.py, `make demo`): exactly the run of
# ../ablations/stage1_cpu_full.py (UniRemovalNet-S, output KD + feature KD + IGCL, 64-px
# crops, batch 10, 400 iterations; the real teachers where ../shared/realdata has them,
# else the fallbacks), validated once at the end, with a progress file so that the demo
# can draw its bar while the detector trains beside it.
#   python tools/train.py configs/demo/stage1.py
_base_ = '../ablations/stage1_cpu_full.py'

experiment_name = 'demo_stage1'
work_dir = f'./work_dirs/{experiment_name}'

default_hooks = dict(checkpoint=dict(save_best=None))
custom_hooks = [dict(type='BasicVisualizationHook', interval=1),
                dict(type='RestorationGridHook', max_samples=3),
                dict(type='ProgressHook', progress_file='progress.json')]
