from .restoration_quality import RestorationQualityMetric

__all__ = ['RestorationQualityMetric']
