# An RTTS-like set (Pascal-VOC XML, 5 classes) as COCO, evaluated with COCO-style AP:
#   python tools/dataset_converters/voc2coco.py data/RTTS/Annotations \
#       data/RTTS/JPEGImages data/RTTS/annotations/rtts_all.json \
#       --classes person car bus bicycle motorcycle
# then split it into rtts_train.json / rtts_test.json (RTTS has no official split; any
# image-level split of the COCO json works). No clean references exist: AP only.
rtts_root = 'data/RTTS/'
rtts_classes = ('person', 'car', 'bus', 'bicycle', 'motorcycle')
rtts_train = dict(
    type='CocoDataset', data_root=rtts_root, metainfo=dict(classes=rtts_classes),
    ann_file='annotations/rtts_train.json', data_prefix=dict(img='JPEGImages/'))
rtts_test_dataloader = dict(
    dataset=dict(data_root=rtts_root, metainfo=dict(classes=rtts_classes),
                 ann_file='annotations/rtts_test.json', data_prefix=dict(img='JPEGImages/')))
rtts_evaluator = dict(type='CocoMetric', ann_file=rtts_root + 'annotations/rtts_test.json',
                      metric='bbox', format_only=False, backend_args=None)
