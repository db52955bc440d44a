from .degradations import (AddBlur, AddHaze, AddMixedDegradation, AddNoise, AddRain,
                           BaseDegradation, severity_grid)

__all__ = [
    'AddHaze', 'AddRain', 'AddBlur', 'AddNoise', 'AddMixedDegradation', 'BaseDegradation',
    'severity_grid'
]
