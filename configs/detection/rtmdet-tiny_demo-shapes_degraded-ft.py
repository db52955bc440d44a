# The control for joint fine-tuning (rtmdet-tiny_demo-shapes_uniremoval-{t,s}_joint.py):
# the same recipe with no restorer at all. The clean demo detector (epoch 40) is
# fine-tuned on the same training images degraded on the fly (AddMixedDegradation, the
# same train pipeline, batch, lr, schedule, load_from), and the degraded images go
# straight to the detector through mmdet's plain DetDataPreprocessor. Its gain over the
# clean detector is what "the detector adapts to degradations" explains; the joint run's
# gain beyond it is what the restorer adds. Evaluated with
#   python tools/analysis_tools/detection_benchmark.py \
#       configs/detection/rtmdet-tiny_demo-shapes_degraded-ft.py WORK_DIR/epoch_2.pth \
#       --modes raw --label degraded_ft
_base_ = './rtmdet-tiny_demo-shapes_uniremoval-t_joint.py'
model = dict(
    data_preprocessor=dict(  # = rtmdet-tiny_demo-shapes.py's (a test checks it)
        _delete_=True, type='DetDataPreprocessor', mean=[103.53, 116.28, 123.675],
        std=[57.375, 57.12, 58.395], bgr_to_rgb=False, batch_augments=None,
        pad_size_divisor=32))
custom_hooks = []  # no restorer, no RestorerLossHook (and no EMA, as in the joint run)
