# RTMDet-tiny behind the frozen UniRemovalNet-S on an RTTS-like set (5 classes,
# VOC XML converted to COCO; COCO-style AP). Train from mmdet's COCO checkpoint, test:
#   python tools/train.py configs/detection/rtmdet-tiny_uniremoval-s_rtts.py \
#       --cfg-options load_from=<mmdet's COCO checkpoint of RTMDet-tiny>
#   python tools/test.py configs/detection/rtmdet-tiny_uniremoval-s_rtts.py \
#       work_dirs/rtmdet-tiny_uniremoval-s_rtts/epoch_300.pth
_base_ = ['mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', './_base_/uniremoval_s.py',
          './_base_/rtts.py']
model = dict(data_preprocessor={{_base_.uniremoval_s}},
             bbox_head=dict(num_classes=5))
train_dataloader = dict(dataset={{_base_.rtts_train}})
val_dataloader = {{_base_.rtts_test_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.rtts_evaluator}}
test_evaluator = val_evaluator
