# Faster R-CNN R50-FPN (COCO) behind the frozen UniRemovalNet-S, tested on foggy COCO:
# box AP and the restored images' PSNR / SSIM in one run. With mmdet's COCO checkpoint:
#   python tools/test.py configs/detection/faster-rcnn_r50_fpn_uniremoval-s_foggy-coco.py \
#       faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py', './_base_/uniremoval_s.py',
          './_base_/foggy_coco.py']
model = dict(data_preprocessor={{_base_.uniremoval_s_scored}})
val_dataloader = {{_base_.degraded_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.degraded_evaluator}}
test_evaluator = val_evaluator
