# A blur specialist that trains on a CPU: UniRemovalNet-S (1.35 M parameters, about 0.9 s
# per step of 8 x 128-px crops on one thread) instead of B (6.5 M, 2.9 s), a linear
# warm-up before the cosine, 1300 iterations (20 min), and mmagic's PSNRLoss (mean over
# the batch of each crop's 10*log10(MSE)) instead of Charbonnier. Synthetic blur of every
# kind (trajectory, linear, defocus) and every severity (kernels 3-27 px) on the demo
# training photos.
#   OMP_NUM_THREADS=1 python tools/train.py configs/teachers/uniremoval-net-s_specialist_deblur.py \
#       --cfg-options randomness.seed=0 train_dataloader.num_workers=0 \
#       train_dataloader.persistent_workers=False env_cfg.mp_cfg.opencv_num_threads=0
# As a teacher: dict(type='FrozenTeacher', model=dict(type='UniRemovalNetS'),
#   checkpoint='work_dirs/uniremoval-net-s_specialist_deblur/iter_1300.pth').
# Why PSNRLoss: a pixel loss over the batch is dominated by the heavily blurred crops
# (severity 4-5 give 55 % of it), so the network first learns one sharpening for all and
# loses dB on the mildly blurred images; the per-image log-MSE weighs every image's
# relative error, as the mean PSNR does. Judge a deblur run by PSNR on fixed pairs, not by
# the logged loss: a batch of 8 blurred crops varies by 0.008 (std), the logged mean of
# 100 batches by 0.0008, more than the 1-3 % that a few thousand steps remove.
# Measurements and the result: docs/user_guides/models.md ("A deblur specialist on a CPU").
_base_ = './uniremoval-net-b_specialist_deblur.py'
experiment_name = 'uniremoval-net-s_specialist_deblur'
work_dir = f'./work_dirs/{experiment_name}'
max_iters = 1300
warmup_iters = 100

model = dict(generator=dict(type='UniRemovalNetS'),
             pixel_loss=dict(_delete_=True, type='PSNRLoss', loss_weight=1.0))
train_cfg = dict(max_iters=max_iters, val_interval=400)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, end=max_iters,
         T_max=max_iters - warmup_iters, eta_min=1e-6),
]
default_hooks = dict(checkpoint=dict(interval=400), logger=dict(interval=50))
