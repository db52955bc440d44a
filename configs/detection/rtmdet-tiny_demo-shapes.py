# RTMDet-tiny trained from scratch on the embedded demo detection set (textured shapes on
# real photos, data/demo/detection; `python tools/misc/build_demo_data.py`): the clean
# detector of the controlled detection benchmark. A delta on mmdet's own config: 3
# classes, 320-px inputs, a plain resize/flip pipeline instead of mosaic + mix-up, no
# pretrained backbone (nothing can be downloaded here), 60 epochs.
#   python tools/train.py configs/detection/rtmdet-tiny_demo-shapes.py
_base_ = 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py'
custom_imports = dict(imports=['uniremoval_mm'], allow_failed_imports=False)

data_root = 'data/demo/detection/'
metainfo = dict(classes=('disk', 'square', 'triangle'))
max_epochs = 60
img_scale = (320, 320)

model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    backbone=dict(init_cfg=None),
    bbox_head=dict(num_classes=3),
    test_cfg=dict(score_thr=0.05, nms=dict(type='nms', iou_threshold=0.6), max_per_img=50))

train_pipeline = [
    dict(type='LoadDetImageChecked', backend_args=None),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=img_scale, ratio_range=(0.75, 1.25), keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadDetImageChecked', backend_args=None),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='Pad', size=img_scale, pad_val=dict(img=(114, 114, 114))),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True, batch_sampler=None,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='train.json',
                 data_prefix=dict(img='train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=2,
    dataset=dict(data_root=data_root, metainfo=metainfo, ann_file='val.json',
                 data_prefix=dict(img='val/'), pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'val.json')
test_evaluator = val_evaluator

train_cfg = dict(max_epochs=max_epochs, val_interval=10, dynamic_intervals=[])
base_lr = 0.004
param_scheduler = [
    dict(type='LinearLR', start_factor=1.0e-5, by_epoch=False, begin=0, end=100),
    dict(type='CosineAnnealingLR', eta_min=base_lr * 0.05, begin=max_epochs // 2,
         end=max_epochs, T_max=max_epochs // 2, by_epoch=True, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2),
                     logger=dict(interval=5))
custom_hooks = [
    dict(type='EMAHook', ema_type='ExpMomentumEMA', momentum=0.0002, update_buffers=True,
         priority=49),
]
