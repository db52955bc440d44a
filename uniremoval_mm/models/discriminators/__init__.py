from .sn_patch_discriminator import SNPatchDiscriminator

__all__ = ['SNPatchDiscriminator']
