from .degradations import (AddBlur, AddHaze, AddMixedDegradation, AddNoise, AddOutdoorFog, AddRain,
                           AddTypedDegradation, BaseDegradation, severity_grid)
from .loading import LoadDetImageChecked, LoadImageChecked

__all__ = [
    'AddHaze', 'AddOutdoorFog', 'AddRain', 'AddBlur', 'AddNoise', 'AddMixedDegradation',
    'AddTypedDegradation',
    'BaseDegradation', 'severity_grid', 'LoadImageChecked', 'LoadDetImageChecked'
]
