"""UniRemovalCalibrator: split, losses by role, two optimisers."""
import pytest
import torch
from mmengine.optim import OptimWrapper, OptimWrapperDict

import uniremoval_mm  # noqa: F401
from uniremoval_mm.models import UniRemovalCalibrator
from ...helpers import build_calibrator, unpaired_batch


def _optim(model):
    return OptimWrapperDict(
        generator=OptimWrapper(torch.optim.Adam(model.generator.parameters(), lr=1e-3)),
        discriminator=OptimWrapper(torch.optim.Adam(model.discriminator.parameters(), lr=1e-3)))


def test_a_step_updates_both_players_and_keeps_the_reference():
    model = build_calibrator()
    assert isinstance(model, UniRemovalCalibrator)
    ref_before = {k: v.clone() for k, v in model.reference.state_dict().items()}
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    log = model.train_step(unpaired_batch(['haze', 'rain', 'clean', 'noise', 'clean', 'blur']),
                           _optim(model))
    assert {'gan.loss_g', 'content.loss', 'identity.loss', 'cgcl.loss', 'gan.loss_d_real',
            'gan.loss_d_fake'} <= set(log)
    assert all(torch.isfinite(v) for v in log.values())
    assert any(not torch.equal(a, p) for a, p in zip(g_before, model.generator.parameters()))
    assert any(not torch.equal(a, p)
               for a, p in zip(d_before, model.discriminator.parameters()))
    for k, v in model.reference.state_dict().items():
        torch.testing.assert_close(v, ref_before[k])
    assert not any(p.requires_grad for p in model.reference.parameters())
    assert int(model.step_counter) == 1 and 'step_counter' in model.state_dict()


def test_discriminator_warm_up_leaves_the_generator_alone():
    model = build_calibrator(disc_init_steps=2, cgcl=None, identity_loss=None)
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    optim = _optim(model)
    log = model.train_step(unpaired_batch(['haze', 'clean']), optim)
    assert 'gan.loss_g' not in log and 'gan.loss_d_fake' in log
    assert all(torch.equal(a, p) for a, p in zip(g_before, model.generator.parameters()))


def test_starts_from_the_stage1_checkpoint(tmp_path):
    donor = build_calibrator()
    with torch.no_grad():
        for p in donor.generator.parameters():
            p.add_(0.01)
    ckpt = tmp_path / 'stage1.pth'  # a stage-1 (distiller) checkpoint: generator.* keys
    torch.save({'state_dict': {f'generator.{k}': v
                               for k, v in donor.generator.state_dict().items()}}, ckpt)
    model = build_calibrator(init_checkpoint=str(ckpt))
    for a, b, c in zip(donor.generator.parameters(), model.generator.parameters(),
                       model.reference.parameters()):
        torch.testing.assert_close(a, b)
        torch.testing.assert_close(a, c)
    (tmp_path / 'last_checkpoint').write_text('/elsewhere/stage1.pth')  # a moved work dir
    from_dir = build_calibrator(init_checkpoint=str(tmp_path))
    for a, b in zip(donor.generator.parameters(), from_dir.generator.parameters()):
        torch.testing.assert_close(a, b)
    model.init_weights()  # the runner's call must not undo the stage-1 weights
    for a, b in zip(donor.generator.parameters(), model.generator.parameters()):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize('gan_type', ['vanilla', 'lsgan', 'hinge'])
def test_gan_types(gan_type):
    model = build_calibrator(gan_loss=dict(type='GANLoss', gan_type=gan_type, loss_weight=0.1))
    log = model.train_step(unpaired_batch(['rain', 'clean', 'mixed'], size=(40, 24)), _optim(model))
    assert all(torch.isfinite(v) for v in log.values())


def test_clear_errors():
    model = build_calibrator()
    with pytest.raises(ValueError, match='needs real degraded photos and real clean'):
        model.train_step(unpaired_batch(['haze', 'rain']), _optim(model))
    with pytest.raises(ValueError, match="'snow'"):
        model.train_step(unpaired_batch(['snow', 'clean']), _optim(model))
    with pytest.raises(KeyError, match='generator and discriminator'):
        model.train_step(unpaired_batch(['haze', 'clean']),
                         OptimWrapperDict(generator=_optim(model)['generator']))
    with pytest.raises(ValueError, match='num_degraded_clusters'):
        build_calibrator(degradation_types=('haze', 'rain'))  # 5 clusters by default
    with pytest.raises(ValueError, match='disc_steps'):
        build_calibrator(disc_steps=0)


def test_kmeans_clusters_without_type_labels():
    model = build_calibrator(degradation_types=None)
    log = model.train_step(unpaired_batch(['hazy', 'clean', 'whatever']), _optim(model))
    assert 'cgcl.loss' in log and torch.isfinite(log['cgcl.loss'])


def test_prediction_is_the_students():
    model = build_calibrator().eval()
    data = model.data_preprocessor(unpaired_batch(['haze'], size=(31, 17)), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    assert out[0].output.pred_img.shape == (3, 31, 17)
    # the stage-1 reference's output rides along, for before/after in one test run
    assert out[0].output.stage1_img.shape == (3, 31, 17)
    torch.testing.assert_close(out[0].output.stage1_img, out[0].output.pred_img)  # not yet moved


def test_missing_stage1_checkpoint_names_the_field(tmp_path):
    with pytest.raises(FileNotFoundError, match='model.init_checkpoint: .*nope.pth not found'):
        build_calibrator(init_checkpoint=str(tmp_path / 'nope.pth'))


def test_non_finite_steps_are_skipped_and_counted_for_both_players():
    from uniremoval_mm.engine import NonFiniteGuardOptimWrapper
    model = build_calibrator()
    optim = OptimWrapperDict(
        generator=NonFiniteGuardOptimWrapper(
            optimizer=torch.optim.Adam(model.generator.parameters(), lr=1e-3), max_skips=1),
        discriminator=NonFiniteGuardOptimWrapper(
            optimizer=torch.optim.Adam(model.discriminator.parameters(), lr=1e-3), max_skips=1))
    forward = model.generator.forward
    model.generator.forward = lambda x, **kw: forward(x, **kw) * float('nan')
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    model.train_step(unpaired_batch(['haze', 'clean', 'rain']), optim)
    assert optim['generator'].skipped == 1 and optim['discriminator'].skipped == 1
    assert all(torch.equal(a, p) for a, p in zip(g_before, model.generator.parameters()))
    assert all(torch.equal(a, p) for a, p in zip(d_before, model.discriminator.parameters()))
    with pytest.raises(FloatingPointError, match='max_skips=1'):  # the second one stops
        model.train_step(unpaired_batch(['haze', 'clean', 'rain']), optim)


DISC_CGCL = dict(type='CGCLLoss', num_degraded_clusters=5, embedding='discriminator',
                 loss_weight=1.0)


def test_cgcl_in_the_live_discriminator_keeps_it_training():
    model = build_calibrator(cgcl=DISC_CGCL)
    assert model.cgcl.embedding == 'discriminator'
    assert model.cgcl.prototypes.shape == (6, 4 + 8 + 16)  # widths from the discriminator
    # the discriminator is not a submodule of the loss: one copy in the checkpoint
    assert not any(k.startswith('cgcl.') and 'weight' in k for k in model.state_dict())
    optim = _optim(model)
    entering_d_step = []
    d_update = optim['discriminator'].update_params

    def spy(loss, **kwargs):  # what the generator step left in D's gradients
        entering_d_step.append([p.grad for p in model.discriminator.parameters()])
        return d_update(loss, **kwargs)

    optim['discriminator'].update_params = spy
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    d_before = [p.detach().clone() for p in model.discriminator.parameters()]
    for seed in range(2):
        batch = unpaired_batch(['haze', 'clean', 'rain', 'clean', 'blur'], seed=seed)
        log = model.train_step(batch, optim)
    assert torch.isfinite(log['cgcl.loss']) and log['cgcl.loss'] > 0
    assert all(g is None or not g.any() for grads in entering_d_step for g in grads)
    assert any(not torch.equal(a, p) for a, p in zip(d_before, model.discriminator.parameters()))
    assert all(p.requires_grad for p in model.discriminator.parameters())
    assert any(not torch.equal(a, p) for a, p in zip(g_before, model.generator.parameters()))


def test_cgcl_gradient_reaches_the_generator_through_the_discriminator():
    model = build_calibrator(cgcl=DISC_CGCL, identity_loss=None, content_loss=None,
                             gan_loss=dict(type='GANLoss', gan_type='lsgan', loss_weight=0.0))
    data = model.data_preprocessor(
        unpaired_batch(['haze', 'clean', 'noise', 'clean'], size=(31, 27)), True)
    degraded, clean, labels = model._split(data['inputs'], data['data_samples'])
    restored = model.generator(degraded)
    loss = model.generator_losses(degraded, clean, restored, labels)['cgcl.loss']
    loss.backward()
    assert loss > 0 and any(p.grad is not None and p.grad.abs().sum() > 0
                            for p in model.generator.parameters())


def test_cgcl_discriminator_embedding_needs_features():
    with pytest.raises(ValueError, match='features'):
        build_calibrator(cgcl=DISC_CGCL, discriminator=dict(
            type='PatchDiscriminator', in_channels=3, base_channels=4, num_conv=2))


def test_its_own_content_loss_and_no_placeholder():
    model = build_calibrator()
    assert model.pixel_loss is None and type(model.content_loss).__name__ == 'CharbonnierLoss'
    log = model.train_step(unpaired_batch(['haze', 'clean']), _optim(model))
    assert 'content.loss' in log
    none = build_calibrator(content_loss=None)
    assert 'content.loss' not in none.train_step(unpaired_batch(['haze', 'clean']),
                                                 _optim(none))


def test_priors_highpass_content_and_rehearsal_train_the_generator():
    model = build_calibrator(
        content_highpass_sigma=2.0, priors=dict(type='RealPhotoPriorLoss'),
        rehearsal=dict(degradations=[dict(type='AddOutdoorFog'), dict(type='AddNoise')],
                       loss=dict(type='L1Loss', loss_weight=1.0)),
        cgcl=None, degradation_types=('haze', ))
    g_before = [p.detach().clone() for p in model.generator.parameters()]
    log = model.train_step(unpaired_batch(['haze', 'clean', 'haze', 'clean'], size=(31, 37)),
                           _optim(model))
    assert {'prior.loss_brightness', 'prior.loss_black', 'prior.loss_colour', 'rehearsal.loss',
            'content.loss'} <= set(log)
    assert all(torch.isfinite(v) for v in log.values())
    assert any(not torch.equal(a, p) for a, p in zip(g_before, model.generator.parameters()))
    clean = torch.rand(2, 3, 29, 35)
    synthetic = model.rehearsal_inputs(clean)
    assert synthetic.shape == clean.shape and not torch.equal(synthetic, clean)
    assert float(synthetic.min()) >= 0 and float(synthetic.max()) <= 1


def test_bad_stage2_options_are_named():
    with pytest.raises(ValueError, match='content_highpass_sigma must be > 0'):
        build_calibrator(content_highpass_sigma=0)
    with pytest.raises(ValueError, match='model.rehearsal needs degradations'):
        build_calibrator(rehearsal=dict(loss=dict(type='L1Loss')))


def test_the_priors_alone_move_the_generator():
    """Each term is summed into the generator's loss (mmengine sums keys with 'loss')."""
    quiet = dict(gan_loss=dict(type='GANLoss', gan_type='lsgan', loss_weight=0.0),
                 content_loss=None, identity_loss=None, cgcl=None)
    with_priors = build_calibrator(priors=dict(type='RealPhotoPriorLoss'), **quiet)
    without = build_calibrator(**quiet)
    batch = unpaired_batch(['haze', 'clean'], size=(31, 37))
    before = [p.detach().clone() for p in with_priors.generator.parameters()]
    log = with_priors.train_step(batch, _optim(with_priors))
    assert float(log['prior.loss_brightness']) + float(log['prior.loss_colour']) > 0
    assert any(not torch.equal(a, p)
               for a, p in zip(before, with_priors.generator.parameters()))
    without.train_step(batch, _optim(without))
    assert all(torch.equal(a, p) for a, p in zip(before, without.generator.parameters()))
