# The no-restorer control of rtmdet-tiny_demo-shapes300_uniremoval-s_joint.py: the same
# schedule, data, seed handling and load_from, with the degraded images going straight to
# the detector through mmdet's plain DetDataPreprocessor (= rtmdet-tiny_demo-shapes.py's;
# a test checks it). Its gain over the clean detector is the detector adapting; the joint
# run's gain beyond it, paired by seed, is what training the restorer with it adds.
_base_ = './rtmdet-tiny_demo-shapes300_uniremoval-s_joint.py'
model = dict(
    data_preprocessor=dict(
        _delete_=True, type='DetDataPreprocessor', mean=[103.53, 116.28, 123.675],
        std=[57.375, 57.12, 58.395], bgr_to_rgb=False, batch_augments=None,
        pad_size_divisor=32))
custom_hooks = []  # no restorer, no RestorerLossHook
