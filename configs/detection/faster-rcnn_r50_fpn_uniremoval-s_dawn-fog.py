# faster-rcnn_r50_fpn_dawn-fog.py behind the frozen UniRemovalNet-S (no clean references
# on real fog: AP only). Same checkpoint, same commands:
#   python tools/test.py configs/detection/faster-rcnn_r50_fpn_uniremoval-s_dawn-fog.py \
#       faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth
_base_ = ['./faster-rcnn_r50_fpn_dawn-fog.py', './_base_/uniremoval_s.py']
model = dict(data_preprocessor={{_base_.uniremoval_s}})
