from .degradations import (AddBlur, AddHaze, AddMixedDegradation, AddNoise, AddRain,
                           AddTypedDegradation, BaseDegradation, severity_grid)
from .loading import LoadDetImageChecked, LoadImageChecked

__all__ = [
    'AddHaze', 'AddRain', 'AddBlur', 'AddNoise', 'AddMixedDegradation', 'AddTypedDegradation',
    'BaseDegradation', 'severity_grid', 'LoadImageChecked', 'LoadDetImageChecked'
]
