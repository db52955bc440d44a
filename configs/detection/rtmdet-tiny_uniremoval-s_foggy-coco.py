# RTMDet-tiny (COCO) behind the frozen UniRemovalNet-S, tested on foggy COCO:
# box AP and the restored images' PSNR / SSIM in one run. With mmdet's COCO checkpoint:
#   python tools/test.py configs/detection/rtmdet-tiny_uniremoval-s_foggy-coco.py \
#       <mmdet's COCO checkpoint of RTMDet-tiny>
_base_ = ['mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py', './_base_/uniremoval_s.py',
          './_base_/foggy_coco.py']
model = dict(data_preprocessor={{_base_.uniremoval_s_scored}})
val_dataloader = {{_base_.degraded_dataloader}}
test_dataloader = val_dataloader
val_evaluator = {{_base_.degraded_evaluator}}
test_evaluator = val_evaluator
