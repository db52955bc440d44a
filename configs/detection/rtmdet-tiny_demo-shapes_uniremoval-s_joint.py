# The joint fine-tuning recipe (rtmdet-tiny_demo-shapes_uniremoval-t_joint.py) behind the
# distilled stage-1 student S (configs/ablations/stage1_cpu_full.py). Frozen counterpart:
#   --cfg-options model.data_preprocessor.freeze=True model.data_preprocessor.reg_weight=0
_base_ = './rtmdet-tiny_demo-shapes_uniremoval-t_joint.py'
model = dict(
    data_preprocessor=dict(restorer=dict(type='mmagic.UniRemovalNetS'),
                           restorer_checkpoint='work_dirs/stage1_cpu_full/iter_400.pth'))
