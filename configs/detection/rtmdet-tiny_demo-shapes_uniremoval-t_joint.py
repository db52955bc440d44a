# Joint fine-tuning on the demo detection set: the clean RTMDet-tiny demo detector
# (rtmdet-tiny_demo-shapes.py, epoch 40) behind a trainable UniRemovalNet-T, trained on
# training images degraded on the fly (one or two of haze, rain, blur, noise per image)
# by the detection loss plus the restoration regulariser restorer.loss_reg (L1 to the
# initial restorer's output, weight 0.1). The same recipe with a frozen restorer:
#   --cfg-options model.data_preprocessor.freeze=True model.data_preprocessor.reg_weight=0
# Val/test: the clean val set; the degraded ones through detection_benchmark.py.
#   python tools/train.py configs/detection/rtmdet-tiny_demo-shapes_uniremoval-t_joint.py \
#       --cfg-options model.data_preprocessor.restorer_checkpoint=STUDENT.pth \
#       load_from=work_dirs/rtmdet_demo/epoch_40.pth
_base_ = './rtmdet-tiny_demo-shapes.py'
max_epochs = 4
load_from = 'work_dirs/rtmdet_demo/epoch_40.pth'
model = dict(
    data_preprocessor=dict(
        type='UniRemovalPreprocessor',
        restorer=dict(type='mmagic.UniRemovalNetT'),
        restorer_checkpoint='work_dirs/stage1_student_t.pth',
        freeze=False,
        reg_weight=0.1))

degrade = dict(
    type='AddMixedDegradation', num_range=(1, 2),
    transforms=[dict(type=t) for t in ('AddHaze', 'AddRain', 'AddBlur', 'AddNoise')])
train_pipeline = [
    dict(type='LoadDetImageChecked', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    degrade,
    dict(type='RandomResize', scale=(320, 320), ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=(320, 320), pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=0.001))
param_scheduler = []
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
# the regulariser's way into the loss dict; no EMA (its slow average would hide a
# few-epoch fine-tuning)
custom_hooks = [dict(type='RestorerLossHook')]
