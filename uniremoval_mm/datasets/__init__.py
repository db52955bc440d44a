from .image_files import list_images, sniff_image_format
from .synthetic_paired import DEGRADATION_TYPES, SyntheticPairedDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['SyntheticPairedDataset', 'DEGRADATION_TYPES', 'list_images', 'sniff_image_format']
