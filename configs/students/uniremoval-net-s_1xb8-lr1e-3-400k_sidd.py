# The student UniRemovalNet-S trained with plain supervision on SIDD (real noise), with
# mmagic's own NAFNet-SIDD recipe: same data, pipeline, loss, optimiser and schedule; only
# the generator changes. It is the supervised baseline that stage-1 distillation is
# compared against. Expects mmagic's SIDD layout under ./data/SIDD (see mmagic's docs).
_base_ = 'mmagic::nafnet/nafnet_c64eb2248mb12db2222_8xb8-lr1e-3-400k_sidd.py'
custom_imports = dict(imports=['uniremoval_mm'], allow_failed_imports=False)

experiment_name = 'uniremoval-net-s_1xb8-lr1e-3-400k_sidd'
work_dir = f'./work_dirs/{experiment_name}'

model = dict(generator=dict(_delete_=True, type='UniRemovalNetS'))
