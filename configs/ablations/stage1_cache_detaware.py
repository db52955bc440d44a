# Stage-1 ablation arm, detection-aware (ours, beyond the paper;
# docs/experiments/2026-12-07_recipes.md,
# "Detection-aware IGCL"): stage1_cache_igcl.py with IGCL's feature hierarchy taken from
# the frozen demo detector (RTMDet-tiny trained on clean demo-shapes images) instead of
# the frozen UniRemovalNet-T: positive = the clean image's detector features, negatives
# = the degraded inputs'. Image views, weights and budget as in stage1_cache_igcl.py.
# Plus do no harm on clean images: the student also restores the clean images, and
# igcl.loss_identity keeps them where they are in the same views (image and detector;
# IGCLLoss.identity), weighted as IGCL (unmeasured: one more student pass per step).
# No detector weight changes (tests/test_models/test_losses/test_detector_features.py).
# The detector's checkpoint must exist first: `make demo` writes it, or
#   python tools/train.py configs/demo/rtmdet-tiny_demo-shapes.py --work-dir work_dirs/demo/detector
# then
#   python tools/train.py configs/ablations/stage1_cache_detaware.py
# (another detector: --cfg-options model.igcl.extractor.config=... det_checkpoint is read
# once, so override model.igcl.extractor.checkpoint=... as well).
_base_ = './stage1_cache_igcl.py'

experiment_name = 'stage1_cache_detaware'
work_dir = f'./work_dirs/{experiment_name}'

det_config = 'configs/demo/rtmdet-tiny_demo-shapes.py'
det_checkpoint = 'work_dirs/demo/detector/epoch_12.pth'
# CSPNeXt's three stages (strides 8, 16, 32) and the PAFPN outputs the head reads; the
# neck (what the head sees) weighs 1, the backbone 0.5: a starting point, not tuned.
det_layers = ('backbone.0', 'backbone.1', 'backbone.2', 'neck.0', 'neck.1', 'neck.2')
model = dict(
    clean_identity_weight=0.05,
    igcl=dict(
        extractor=dict(_delete_=True, type='DetectorFeatureExtractor', config=det_config,
                       checkpoint=det_checkpoint, use_neck=True, taps=det_layers),
        layers=det_layers,
        layer_weights=(0.5, 0.5, 0.5, 1.0, 1.0, 1.0)))
