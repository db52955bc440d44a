from .cgcl import CGCLLoss, degradation_descriptor
from .detector_features import DetectorFeatureExtractor
from .igcl import IMAGE_VIEWS, IGCLLoss, batch_negative_indices, image_view
from .real_priors import RealPhotoPriorLoss, highpass

__all__ = [
    'IGCLLoss', 'image_view', 'batch_negative_indices', 'IMAGE_VIEWS', 'CGCLLoss',
    'degradation_descriptor', 'DetectorFeatureExtractor', 'RealPhotoPriorLoss',
    'highpass'
]
