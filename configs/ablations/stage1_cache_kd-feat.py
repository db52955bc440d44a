# Stage-1 ablation arm: ground truth + output KD + feature KD over two levels per teacher
# (the student's full-resolution encoder and decoder taps against each teacher's two
# taps). Teacher features are not cached, so the teachers run online in this arm; see
# stage1_cache_gt.py for the budget and the other arms.
_base_ = './stage1_cache_kd-out.py'

experiment_name = 'stage1_cache_kd-feat'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(
    feature_pairs=dict(_delete_=True, haze=[('enc0', 'x4'), ('dec0', 'k')],
                       rain=[('enc0', 'res'), ('dec0', 'h')],
                       noise=[('enc0', 'mid'), ('dec0', 'last')]),
    feature_loss_weight=0.1)
