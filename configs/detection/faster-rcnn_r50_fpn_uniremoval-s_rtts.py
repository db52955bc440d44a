# Faster R-CNN R50-FPN behind the frozen UniRemovalNet-S on an RTTS-like set (5 classes,
# VOC XML converted to COCO; COCO-style AP). Train from mmdet's COCO checkpoint, test:
#   python tools/train.py configs/detection/faster-rcnn_r50_fpn_uniremoval-s_rtts.py \
#       --cfg-options load_from=faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth
#   python tools/test.py configs/detection/faster-rcnn_r50_fpn_uniremoval-s_rtts.py \
#       work_dirs/faster-rcnn_r50_fpn_uniremoval-s_rtts/epoch_12.pth
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', './_base_/uniremoval_s.py',
          './_base_/rtts.py']
model = dict(data_preprocessor={{_base_.uniremoval_s}},
             roi_head=dict(bbox_head=dict(num_classes=5)))
train_dataloader = dict(dataset={{_base_.rtts_train}})
val_dataloader = {{_base_.rtts_test_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.rtts_evaluator}}
test_evaluator = val_evaluator
