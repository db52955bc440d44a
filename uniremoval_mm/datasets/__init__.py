from .converters import ConversionReport, fix_box, parse_box_list, voc_to_coco
from .folders import MATCH_RULES, PairedFolderDataset, UnpairedFolderDataset
from .image_files import list_images, sniff_image_format
from .samplers import DegradationBalancedBatchSampler
from .synthetic_paired import DEGRADATION_TYPES, SyntheticPairedDataset
from .teacher_cache import TeacherCacheDataset
from .transforms import *  # noqa: F401,F403

__all__ = [
    'SyntheticPairedDataset', 'TeacherCacheDataset', 'PairedFolderDataset', 'UnpairedFolderDataset',
    'DegradationBalancedBatchSampler', 'DEGRADATION_TYPES', 'MATCH_RULES', 'list_images',
    'sniff_image_format', 'voc_to_coco', 'parse_box_list', 'fix_box', 'ConversionReport'
]
