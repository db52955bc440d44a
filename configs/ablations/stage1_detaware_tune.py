# Detection-aware tuning (ours, beyond the paper; docs/experiments/2026-12-07_detection.md,
# "Detection-aware
# tuning"): the released student tuned for a short while against a frozen detector's
# feature hierarchy. IGCL's feature views come from the detector the restorer will sit in
# front of (RTMDet-tiny trained on clean demo-shapes images, backbone stages and PAFPN
# outputs): the restored image's features are pulled to the clean image's and pushed from
# the degraded input's; the image views and the ground truth (PSNR loss, as the release)
# keep it a restorer, the clean-identity terms keep clean images as they are (do no harm).
# Data: the detector's own clean training images, degraded on the fly (one of the five
# kinds per crop); no teachers. No detector weight changes.
# Its control, stage1_detaware_tune_control.py, removes only the detector's views.
#   python tools/train.py configs/detection/rtmdet-tiny_demo-shapes.py \
#       --work-dir work_dirs/rtmdet_demo --cfg-options train_cfg.max_epochs=40 randomness.seed=0
#   python tools/train.py configs/ablations/stage1_detaware_tune.py
_base_ = ['../uniremoval_stage1.py']

experiment_name = 'stage1_detaware_tune'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 200
student_checkpoint = '{{ fileDirname }}/../../checkpoints/uniremoval-net-s_stage1-cpu.pth'
det_config = 'configs/detection/rtmdet-tiny_demo-shapes.py'
det_checkpoint = 'work_dirs/rtmdet_demo/epoch_40.pth'
# CSPNeXt's three stages (strides 8, 16, 32) and the PAFPN outputs the head reads; the
# neck (what the head sees) weighs 1, the backbone 0.5 (as stage1_cache_detaware.py)
det_layers = ('backbone.0', 'backbone.1', 'backbone.2', 'neck.0', 'neck.1', 'neck.2')
model = dict(
    init_checkpoint=student_checkpoint,
    teachers=dict(_delete_=True, haze=None, rain=None, noise=None, blur=None),
    teacher_fallbacks=dict(_delete_=True, haze=None, rain=None, noise=None),
    distill_loss=None,
    pixel_loss=dict(_delete_=True, type='PSNRLoss', loss_weight=0.02),
    clean_identity_loss=dict(type='CharbonnierLoss', loss_weight=0.2),
    clean_identity_weight=0.1,
    igcl=dict(_delete_=True, type='IGCLLoss', views=('pixel', 'gradient'),
              extractor=dict(type='DetectorFeatureExtractor', config=det_config,
                             checkpoint=det_checkpoint, use_neck=True, taps=det_layers),
              layers=det_layers, layer_weights=(0.5, 0.5, 0.5, 1.0, 1.0, 1.0),
              mode='ratio', batch_negative_weight=0.5, loss_weight=0.1))
train_dataloader = dict(num_workers=1,
                        dataset=dict(data_root='data/demo/detection/train'))
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
optim_wrapper = dict(optimizer=dict(lr=2e-4))
param_scheduler = dict(T_max=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters, max_keep_ckpts=1, save_best=None),
                     logger=dict(interval=25))
custom_hooks = []  # no picture grids during a tuning run
randomness = dict(seed=0)
