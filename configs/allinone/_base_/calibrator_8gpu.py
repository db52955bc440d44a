# The calibrator on several GPUs: it has its own train_step (generator and discriminator
# steps), so each trainable part is wrapped apart (mmengine's
# MMSeparateDistributedDataParallel, as mmagic's GANs do); the frozen stage-1 reference is
# not wrapped.
model_wrapper_cfg = dict(type='MMSeparateDistributedDataParallel', broadcast_buffers=False,
                         find_unused_parameters=False)
