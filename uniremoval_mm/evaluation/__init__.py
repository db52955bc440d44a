"""Metrics registered into mmdet's METRICS (detection test runs)."""
from .metrics import RestorationQualityMetric

__all__ = ['RestorationQualityMetric']
