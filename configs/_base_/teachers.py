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

# --- dehaze ---------------------------------------------------------------------------
aodnet = dict(
    _scope_='mmagic', type='FrozenTeacher', model=dict(type='AODNet'),
    checkpoint=f'{weights_root}/aodnet/aodnet_dehazer.pth')
dark_channel_prior = dict(
    _scope_='mmagic', type='FrozenTeacher', model=dict(type='DarkChannelPrior'))

# --- derain ---------------------------------------------------------------------------
prenet = dict(
    _scope_='mmagic', type='FrozenTeacher', model=dict(type='PReNet', stages=6),
    checkpoint=f'{weights_root}/prenet/prenet6_rain100l.pth')
prenet_heavy = dict(prenet, checkpoint=f'{weights_root}/prenet/prenet6_rain100h.pth')
restormer_rain13k = dict(
    _scope_='mmagic', type='FrozenTeacher', model='mmagic::restormer/restormer_official_rain13k.py',
    checkpoint='https://download.openmmlab.com/mmediting/restormer/'
    'restormer_official_rain13k-2be7b550.pth')

# --- denoise --------------------------------------------------------------------------
dncnn = dict(
    _scope_='mmagic', type='FrozenTeacher', model=dict(type='DnCNN', depth=20, image_channels=1),
    checkpoint=f'{weights_root}/dncnn/dncnn_blind_gray.pth')
nafnet_sidd = dict(
    _scope_='mmagic',
    type='FrozenTeacher',
    model='mmagic::nafnet/nafnet_c64eb2248mb12db2222_8xb8-lr1e-3-400k_sidd.py',
    checkpoint='https://download.openmmlab.com/mmediting/nafnet/NAFNet-SIDD-midc64.pth')
restormer_sidd = dict(
    _scope_='mmagic', type='FrozenTeacher', model='mmagic::restormer/restormer_official_sidd.py',
    checkpoint='https://download.openmmlab.com/mmediting/restormer/'
    'restormer_official_sidd-9e7025db.pth')

# --- deblur ---------------------------------------------------------------------------
nafnet_gopro = dict(
    _scope_='mmagic',
    type='FrozenTeacher',
    model='mmagic::nafnet/nafnet_c64eb11128mb1db1111_8xb8-lr1e-3-400k_gopro.py',
    checkpoint='https://download.openmmlab.com/mmediting/nafnet/NAFNet-GoPro-midc64.pth')
restormer_gopro = dict(
    _scope_='mmagic', type='FrozenTeacher', model='mmagic::restormer/restormer_official_gopro.py',
    checkpoint='https://download.openmmlab.com/mmediting/restormer/'
    'restormer_official_gopro-db7363a0.pth')
