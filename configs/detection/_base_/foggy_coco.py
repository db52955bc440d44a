# COCO val2017 made foggy by our haze model, same file names and boxes:
#   python tools/dataset_converters/make_degraded_coco.py \
#       data/coco/annotations/instances_val2017.json data/coco/val2017 data/coco_foggy \
#       --type haze --severity 3 --seed 0
# (--type rain makes the rainy set; override degraded_root's three uses with
# --cfg-options, or copy this file). Detection AP (CocoMetric) and, since the clean
# references exist, PSNR / SSIM of the restored images in the same run.
clean_root = 'data/coco/'
degraded_root = 'data/coco_foggy/'
degraded_ann = 'instances_val2017.json'
degraded_dataloader = dict(
    dataset=dict(data_root=degraded_root, ann_file=degraded_ann,
                 data_prefix=dict(img='images/')))
degraded_evaluator = [
    dict(type='CocoMetric', ann_file=degraded_root + degraded_ann, metric='bbox',
         format_only=False, backend_args=None),
    dict(type='RestorationQualityMetric', ref_dir=clean_root + 'val2017/'),
]
