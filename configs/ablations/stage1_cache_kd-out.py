# Stage-1 ablation arm: ground truth + output KD (reliability-weighted, bounded); see
# stage1_cache_gt.py for the budget and the other arms.
_base_ = './stage1_cache_gt.py'

experiment_name = 'stage1_cache_kd-out'
work_dir = f'./work_dirs/{experiment_name}'
model = dict(distill_loss=dict(_delete_=True, type='CharbonnierLoss', loss_weight=0.5))
