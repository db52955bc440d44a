from .igcl import IMAGE_VIEWS, IGCLLoss, image_view

__all__ = ['IGCLLoss', 'image_view', 'IMAGE_VIEWS']
