# The released CPU-trained student (docs/model_card.md): the fifth CPU recipe, warm start
# (configs/ablations/stage1_release_v5_warm.py): stage 1 of Uni-Removal on the 34 clean
# photos we have offline, 2 000 iterations of the fourth recipe, then 2 000 more from its
# student with the PSNR loss at half the peak learning rate; one thread of a 2-core CPU
# each. Two trainings, in this order:
#   apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc
#   python tools/dataset_converters/collect_clean_photos.py --out data/clean_photos_plus \
#       --opencv-samples /tmp/opencv-doc/usr/share/doc/opencv-doc/examples
#   python tools/misc/build_teacher_cache.py configs/uniremoval_stage1_cpu-release.py
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v4.py
#   OMP_NUM_THREADS=1 python tools/train.py configs/uniremoval_stage1_cpu-release.py
#   python tools/model_converters/publish_student.py \
#       work_dirs/uniremoval_stage1_cpu-release/iter_2000.pth \
#       checkpoints/uniremoval-net-s_stage1-cpu.pth
# What differs from configs/uniremoval_stage1.py, and why (docs/method.md, "Stage 1"), by
# the recipe that brought it:
# - v1 (configs/ablations/stage1_release_v1.py): 128-px crops made once with their
#   teachers' outputs (the teacher cache), flipped and transposed while training; the
#   clean image first (pixel weight 1), each teacher trusted only as far as it removes
#   its input's error and only where it is still ahead of the student, IGCL with the
#   clean image as positive in image space and in a frozen UniRemovalNet-T's features;
#   no feature KD (teacher features are not cached); no checkpoint chosen on the
#   validation pairs (they are the held-out evaluation);
# - v2: clean images given back unchanged (clean_identity_loss 0.2), IGCL at 0.01;
# - v3: the S network with overlapping down-sampling and bilinear up-sampling (no grid);
# - v4: 34 clean photos instead of 8 (less darkening of real photos);
# - v5: the ground-truth term as a PSNR loss (each pair counts by its relative error),
#   here from v4's student (load_from) for 2 000 more iterations at lr 5e-4.
_base_ = ['./ablations/stage1_release_v5_warm.py']

experiment_name = 'uniremoval_stage1_cpu-release'
work_dir = f'./work_dirs/{experiment_name}'
