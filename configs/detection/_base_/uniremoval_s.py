# The stage-1 student UniRemovalNet-S in front of any mmdet detector: frozen, restoring
# every image in train, val and test. Detector configs take it as
#   model = dict(data_preprocessor={{_base_.uniremoval_s}})
# so mean / std / bgr_to_rgb / pad_size_divisor / batch_augments stay the detector's own.
# By default the released CPU-trained student in checkpoints/ (docs/model_card.md): no
# training needed. A stage-1 distiller checkpoint (generator.* keys) or a plain student
# state_dict loads too; point restorer_checkpoint at yours, e.g.
#   --cfg-options model.data_preprocessor.restorer_checkpoint=work_dirs/my_student.pth
custom_imports = dict(imports=['uniremoval_mm'], allow_failed_imports=False)
# (relative to this file, so the config works from any working directory)
restorer_checkpoint = '{{ fileDirname }}/../../../checkpoints/uniremoval-net-s_stage1-cpu.pth'
uniremoval_s = dict(
    type='UniRemovalPreprocessor',
    restorer=dict(type='mmagic.UniRemovalNetS'),
    restorer_checkpoint=restorer_checkpoint,
    freeze=True)
# the same, keeping each restored test image for RestorationQualityMetric (sets with
# clean references)
uniremoval_s_scored = dict(uniremoval_s, keep_restored=True)
