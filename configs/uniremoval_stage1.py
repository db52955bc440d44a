# Uni-Removal stage 1: knowledge transfer from frozen specialists into one student,
# regularised by IGCL. Runs with no arguments on the embedded demo data:
#   python tools/misc/build_demo_data.py      # once (make demo does it)
#   python tools/train.py configs/uniremoval_stage1.py
# Teachers: the official AOD-Net / PReNet / DnCNN weights under `weights_root` (see
# configs/_base_/teachers.py); where a file is missing, `teacher_fallbacks` applies (the
# dark channel prior for haze; ground truth only for rain and noise) with a warning. Blur
# has no public CPU-sized teacher here: it learns from the ground truth, or from your own
# specialist (configs/teachers/uniremoval-net-s_specialist_deblur.py trains in 21 min on
# one CPU thread and is weak; ..._net-b_specialist_deblur.py is the full 20k schedule):
#   --cfg-options model.teachers.blur.type=FrozenTeacher ... (see docs/method.md).
# Validation: PSNR / SSIM (mmagic's, RGB) per degradation type on fixed demo pairs.
_base_ = ['./_base_/synthetic_restoration.py', './_base_/teachers.py']

experiment_name = 'uniremoval_stage1'
work_dir = f'./work_dirs/{experiment_name}'
data_root = 'data/demo'
degradation_types = ['haze', 'rain', 'blur', 'noise', 'mixed']
batch_size = 10  # two of each type per batch (DegradationBalancedBatchSampler)

# IGCL in image space and in the feature hierarchy (enc0-enc2: full, 1/2 and 1/4
# resolution) of a frozen UniRemovalNet-T of ours, trained on the ground truth alone and
# shipped in checkpoints/ (docs/method.md, "IGCL")
# (the path is relative to this file, so the config works from any working directory)
extractor_checkpoint = '{{ fileDirname }}/../checkpoints/uniremoval-net-t_extractor.pth'
igcl = dict(type='IGCLLoss', views=('pixel', 'gradient'),
            extractor=dict(type='FrozenTeacher', model=dict(type='UniRemovalNetT'),
                           checkpoint=extractor_checkpoint),
            layers=('enc0', 'enc1', 'enc2'), mode='ratio', batch_negative_weight=0.5,
            loss_weight=0.05)
model = dict(
    type='UniRemovalDistiller',
    generator=dict(type='UniRemovalNetS'),
    teachers=dict(haze={{_base_.aodnet}}, rain={{_base_.prenet}}, noise={{_base_.dncnn}},
                  blur=None),
    teacher_fallbacks=dict(haze={{_base_.dark_channel_prior}}, rain=None, noise=None),
    missing_teacher='fallback',
    degradation_types=degradation_types,  # a teacher under another name is an error
    # the clean image first; each teacher trusted as far as it removes its input's error,
    # and only where it is still ahead of the student (docs/method.md, "Stage 1")
    pixel_loss=dict(type='CharbonnierLoss', loss_weight=1.0),
    distill_loss=dict(type='CharbonnierLoss', loss_weight=0.5),
    distill_reliability='sample',
    teacher_bound=True,
    feature_pairs=None,
    igcl=igcl,
    positive='gt',
    data_preprocessor={{_base_.data_preprocessor}})

val_pipeline = [
    dict(type='LoadImageChecked', key='img', channel_order='rgb'),
    dict(type='LoadImageChecked', key='gt', channel_order='rgb'),
    dict(type='PackInputs', meta_keys=['degradation_type']),
]
train_dataloader = dict(
    num_workers=2,
    batch_size=batch_size,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    batch_sampler=dict(type='DegradationBalancedBatchSampler'),
    dataset=dict(
        type='SyntheticPairedDataset',
        data_root=f'{data_root}/clean/train',
        degradation_types=degradation_types,
        pipeline={{_base_.train_pipeline}}))


def _val_loader(kind):
    return dict(
        num_workers=0, persistent_workers=False, drop_last=False, batch_size=1,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='PairedFolderDataset', data_root=f'{data_root}/pairs/{kind}',
                     lq_dir='lq', gt_dir='gt', degradation_type=kind, pipeline=val_pipeline))


val_dataloader = [_val_loader(kind) for kind in degradation_types]
test_dataloader = val_dataloader
val_evaluator = [
    dict(type='Evaluator',
         metrics=[dict(type='PSNR', prefix=kind), dict(type='SSIM', prefix=kind)])
    for kind in degradation_types
]
test_evaluator = val_evaluator

default_hooks = dict(checkpoint=dict(save_best='haze/PSNR', rule='greater'))
# mmagic's per-image pictures, plus input | restored | target grids per degradation type
# after each validation (work_dir/vis_grids/iter_N/<type>.jpg and the visualiser's
# backends; add dict(type='TensorboardVisBackend') to vis_backends for TensorBoard)
custom_hooks = [dict(type='BasicVisualizationHook', interval=1),
                dict(type='RestorationGridHook', max_samples=3)]
