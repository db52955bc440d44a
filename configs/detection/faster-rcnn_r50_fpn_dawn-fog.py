# Faster R-CNN R50-FPN (mmdet's COCO model, 80 classes) tested on DAWN fog: 300 real
# traffic photos in fog, haze and mist (Kenk & Hassaballah 2020). DAWN is an acceptance
# set: test only, nothing is trained or tuned on it. Its VOC XML (0-based boxes) converts
# with COCO's 80 categories, so COCO labels need no remapping (AP is averaged over the 6
# classes DAWN has: car, truck, person, bus, motorcycle, bicycle):
#   python tools/dataset_converters/voc2coco.py data/dawn_fog/voc_xml data/dawn_fog/images \
#       data/dawn_fog/dawn_fog_coco.json --zero-based --coco-classes
#   python tools/test.py configs/detection/faster-rcnn_r50_fpn_dawn-fog.py \
#       faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth
# The same behind the restorer: faster-rcnn_r50_fpn_uniremoval-s_dawn-fog.py.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'  # plain mmdet: no plugin needed
dawn_root = 'data/dawn_fog/'
val_dataloader = dict(
    dataset=dict(data_root=dawn_root, ann_file='dawn_fog_coco.json',
                 data_prefix=dict(img='images/')))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=dawn_root + 'dawn_fog_coco.json')
test_evaluator = val_evaluator
