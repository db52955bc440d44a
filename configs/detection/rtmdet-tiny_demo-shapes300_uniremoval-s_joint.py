# Joint fine-tuning for the 300-image benchmark (docs/experiments/2026-12-07_detection.md,
# row
# "joint fine-tuning"): the clean demo detector (epoch 40) behind the RELEASED student,
# both trained by the detection loss (+ the restorer's L1 regulariser, weight 0.1) on the
# 240 training images degraded on the fly. Unlike the 60-iteration recipe it derives from
# (no warm-up: clean mAP spread 0.70-0.84 over seeds), a warm-up of one epoch from 1 % of
# the lr (Adam's first steps after a fresh start are full-size in every weight), a lower
# lr and a cosine decay to 5 % over 4 epochs, so the run ends settled.
#   python tools/train.py configs/detection/rtmdet-tiny_demo-shapes300_uniremoval-s_joint.py \
#       --work-dir work_dirs/det300_ft/joint_s0 --cfg-options randomness.seed=0
# Its control (no restorer, same everything else): rtmdet-tiny_demo-shapes300_degraded-ft.py.
_base_ = './rtmdet-tiny_demo-shapes_uniremoval-s_joint.py'
data_root = 'data/demo_det300/detection/'
max_epochs = 4
warmup_iters = 30  # one epoch: 240 images / batch 8
lr = 5e-4
model = dict(data_preprocessor=dict(
    restorer_checkpoint='checkpoints/uniremoval-net-s_stage1-cpu.pth'))
train_dataloader = dict(dataset=dict(data_root=data_root))
val_dataloader = dict(dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'val.json')
test_evaluator = val_evaluator
# validated once, at the end (clean val); detection_benchmark.py tests every set
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=lr))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', eta_min=lr * 0.05, begin=1, end=max_epochs,
         T_max=max_epochs - 1, by_epoch=True, convert_to_iter_based=True),
]
default_hooks = dict(checkpoint=dict(interval=max_epochs, max_keep_ckpts=1))
