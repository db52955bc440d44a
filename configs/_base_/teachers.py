# Frozen teachers for stage 1, one per specialist. A stage-1 config picks one per
# degradation, e.g. teachers=dict(haze={{_base_.aodnet}}, rain={{_base_.prenet}}, ...).
# Inputs and outputs are RGB in [0, 1]; every checkpoint loads with weights_only=True.
# _scope_='mmagic' (where our networks are registered) lets mmdet-scoped configs use them.
#
# Local weights (the authors' official releases, loaded through our ports):
#   AOD-Net  https://github.com/MayankSingal/PyTorch-Image-Dehazing  (dehazer.pth)
#   PReNet   https://github.com/csdwren/PReNet                       (logs/*/net_latest.pth)
#   DnCNN    https://github.com/SaoYan/DnCNN-PyTorch                 (logs/DnCNN-B/net.pth)
# Put them under `weights_root` with the names below (developer machines have them in
# ../shared/realdata/weights), or override `checkpoint=` per teacher.
weights_root = '../shared/realdata/weights'


def _teacher(model, **kwargs):
    return dict(_scope_='mmagic', type='FrozenTeacher', model=model, **kwargs)


def _mmagic_teacher(config, weights):
    """One of mmagic's released networks: its config, its weights on OpenMMLab's server."""
    return _teacher(f'mmagic::{config}',
                    checkpoint=f'https://download.openmmlab.com/mmediting/{weights}')


# --- dehaze ---------------------------------------------------------------------------
aodnet = _teacher(dict(type='AODNet'), checkpoint=f'{weights_root}/aodnet/aodnet_dehazer.pth')
dark_channel_prior = _teacher(dict(type='DarkChannelPrior'))

# --- derain ---------------------------------------------------------------------------
prenet = _teacher(dict(type='PReNet', stages=6),
                  checkpoint=f'{weights_root}/prenet/prenet6_rain100l.pth')
prenet_heavy = dict(prenet, checkpoint=f'{weights_root}/prenet/prenet6_rain100h.pth')
restormer_rain13k = _mmagic_teacher('restormer/restormer_official_rain13k.py',
                                    'restormer/restormer_official_rain13k-2be7b550.pth')

# --- denoise --------------------------------------------------------------------------
dncnn = _teacher(dict(type='DnCNN', depth=20, image_channels=1),
                 checkpoint=f'{weights_root}/dncnn/dncnn_blind_gray.pth')
nafnet_sidd = _mmagic_teacher('nafnet/nafnet_c64eb2248mb12db2222_8xb8-lr1e-3-400k_sidd.py',
                              'nafnet/NAFNet-SIDD-midc64.pth')
restormer_sidd = _mmagic_teacher('restormer/restormer_official_sidd.py',
                                 'restormer/restormer_official_sidd-9e7025db.pth')

# --- deblur ---------------------------------------------------------------------------
nafnet_gopro = _mmagic_teacher('nafnet/nafnet_c64eb11128mb1db1111_8xb8-lr1e-3-400k_gopro.py',
                               'nafnet/NAFNet-GoPro-midc64.pth')
restormer_gopro = _mmagic_teacher('restormer/restormer_official_gopro.py',
                                  'restormer/restormer_official_gopro-db7363a0.pth')
