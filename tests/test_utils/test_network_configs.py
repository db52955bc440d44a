"""network_cfg: one meaning for a config, a config file or a name, wherever it is used."""
import pytest
from mmengine.config import Config

from uniremoval_mm.utils.network_configs import network_cfg

NAFNET_SIDD = 'mmagic::nafnet/nafnet_c64eb2248mb12db2222_8xb8-lr1e-3-400k_sidd.py'


@pytest.fixture
def configs(tmp_path):
    net = tmp_path / 'net.py'
    net.write_text("model = dict(type='UniRemovalNetT', width=6)\n")
    wrapped = tmp_path / 'wrapped.py'
    wrapped.write_text("default_scope = 'mmagic'\nmodel = dict(type='UniRemovalDistiller', "
                       "generator=dict(type='UniRemovalNetS'))\n")
    return dict(net=str(net), wrapped=wrapped)


def test_the_generator_of_a_config_else_its_model(configs):
    assert network_cfg(configs['wrapped']) == dict(type='UniRemovalNetS', _scope_='mmagic')
    assert network_cfg(configs['net']) == dict(type='UniRemovalNetT', width=6,
                                               _scope_='mmagic')
    assert network_cfg(Config.fromfile(configs['wrapped'])) == network_cfg(configs['wrapped'])


def test_a_teacher_needs_a_generator(configs):
    assert network_cfg(configs['wrapped'], require_generator=True)['type'] == 'UniRemovalNetS'
    with pytest.raises(ValueError, match=f"{configs['net']}: has no model.generator"):
        network_cfg(configs['net'], require_generator=True)


def test_host_configs_and_overrides():
    cfg = network_cfg(NAFNET_SIDD, dict(mid_channels=32))
    assert cfg['type'] == 'NAFNet' and cfg['mid_channels'] == 32 and cfg['_scope_'] == 'mmagic'


def test_a_network_dict_keeps_its_scope():
    assert network_cfg(dict(type='AODNet')) == dict(type='AODNet', _scope_='mmagic')
    assert network_cfg(dict(type='X', _scope_='mmdet'))['_scope_'] == 'mmdet'


@pytest.mark.parametrize('name, expected', [('S', 'UniRemovalNetS'), ('T', 'UniRemovalNetT'),
                                            ('UniRemovalNetB', 'UniRemovalNetB'),
                                            ('NAFNet', 'NAFNet')])
def test_sizes_and_registered_names(name, expected):
    assert network_cfg(name) == dict(type=expected, _scope_='mmagic')


def test_missing_files_and_unknown_names(tmp_path):
    with pytest.raises(FileNotFoundError, match='config file not found: .*nope.py'):
        network_cfg(str(tmp_path / 'nope.py'))
    with pytest.raises(FileNotFoundError, match='config file not found: configs/nope'):
        network_cfg('configs/nope')
    with pytest.raises(ValueError, match="'Nope' is not a config file"):
        network_cfg('Nope')
