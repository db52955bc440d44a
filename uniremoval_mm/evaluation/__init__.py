"""Metrics: no-reference quality of real photos (mmagic's METRICS) and restoration quality
inside detection test runs (mmdet's METRICS)."""
from .metrics import *  # noqa: F401,F403
