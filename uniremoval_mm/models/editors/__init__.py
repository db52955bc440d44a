from .calibrator import UniRemovalCalibrator
from .distiller import UniRemovalDistiller

__all__ = ['UniRemovalDistiller', 'UniRemovalCalibrator']
