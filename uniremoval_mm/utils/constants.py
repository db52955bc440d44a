"""Names shared by the datasets, the models and the tools.

Kept apart from :mod:`uniremoval_mm.datasets` so that a model (the distiller's and the
calibrator's defaults) or a tool reads the list without depending on the data code.
"""

__all__ = ['DEGRADATION_TYPES']

#: Every degradation type of the training data: each of the four alone, and ``mixed``
#: (several at once). A sample's ``degradation_type`` is one of them.
DEGRADATION_TYPES = ('haze', 'rain', 'blur', 'noise', 'mixed')
