from .cgcl import CGCLLoss, degradation_descriptor
from .igcl import IMAGE_VIEWS, IGCLLoss, image_view

__all__ = ['IGCLLoss', 'image_view', 'IMAGE_VIEWS', 'CGCLLoss', 'degradation_descriptor']
