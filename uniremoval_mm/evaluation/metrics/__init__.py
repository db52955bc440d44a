from .no_reference import NoReferenceQuality, dark_channel_density

__all__ = ['NoReferenceQuality', 'dark_channel_density']
