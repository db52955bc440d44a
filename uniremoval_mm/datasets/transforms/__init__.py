from .degradations import (AddBlur, AddHaze, AddMixedDegradation, AddNoise, AddRain,
                           AddTypedDegradation, BaseDegradation, severity_grid)

__all__ = [
    'AddHaze', 'AddRain', 'AddBlur', 'AddNoise', 'AddMixedDegradation', 'AddTypedDegradation',
    'BaseDegradation', 'severity_grid'
]
