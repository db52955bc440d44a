from .no_reference import NoReferenceQuality, dark_channel_density, niqe_score, piqe_score
from .restoration_quality import RestorationQualityMetric

__all__ = ['NoReferenceQuality', 'dark_channel_density', 'niqe_score', 'piqe_score',
           'RestorationQualityMetric']
