# Stage 2 of Uni-Removal at paper scale on GPUs: configs/uniremoval_stage2.py's
# calibration (LSGAN with a spectral-norm PatchGAN, content to the frozen stage-1 output,
# identity on clean photos, CGCL) for 20k iterations, AMP for both players. No kinds and
# no test sets here: the setting configs (../uniremoval-s_stage2_{3,5}task_*.py) add them.
# Real photos: data/allinone/real_unpaired/<kind>/ (yours; never RTTS, it is the detection
# test), else ../shared/realdata/unpaired, else the demo set; a kind without a folder is
# skipped with a warning. The held-out split of configs/uniremoval_stage2.py (test_files)
# applies where its files exist.
_base_ = ['../../uniremoval_stage2.py']

max_iters = 20000
unpaired_roots = ['data/allinone/real_unpaired', '../shared/realdata/unpaired',
                  'data/demo/unpaired']
train_dataloader = dict(num_workers=4)
# mixed precision for both players, each its own GradScaler; the non-finite guard stays
amp = dict(type='NonFiniteGuardAmpOptimWrapper', loss_scale='dynamic', dtype='float16',
           max_consecutive_overflows=30)
optim_wrapper = dict(generator=amp, discriminator=amp)
# tools/train.py --auto-scale-lr scales both rates by (GPUs x batch) / base_batch_size
auto_scale_lr = dict(enable=False, base_batch_size=12)
train_cfg = dict(max_iters=max_iters, val_interval=2000)
default_hooks = dict(checkpoint=dict(interval=2000, max_keep_ckpts=3))
