# The fourth CPU recipe, the released one (configs/uniremoval_stage1_cpu-release.py;
# docs/experiments/2026-12-07_recipes.md, "A third and a fourth CPU recipe"): the third
# recipe (configs/ablations/stage1_release_v3.py) trained on 34 clean photos instead of 8:
# the 8 of the first recipes plus 26 colour photos among OpenCV's samples (streets,
# buildings, sky, plants; tools/dataset_converters/collect_clean_photos.py lists them),
# the one change against the students darkening clean, low-contrast real photos (sky,
# dry grass) that nothing like them was in training. Its control is the third recipe.
#   apt-get download opencv-doc && dpkg -x opencv-doc_*.deb /tmp/opencv-doc
#   python tools/dataset_converters/collect_clean_photos.py --out data/clean_photos_plus \
#       --opencv-samples /tmp/opencv-doc/usr/share/doc/opencv-doc/examples
#   python tools/misc/build_teacher_cache.py configs/ablations/stage1_release_v4.py
#   OMP_NUM_THREADS=1 python tools/train.py configs/ablations/stage1_release_v4.py
_base_ = ['./stage1_release_v3.py']

experiment_name = 'stage1_release_v4'
work_dir = f'./work_dirs/{experiment_name}'
teacher_cache = dict(photo_root='data/clean_photos_plus',
                     out='data/teacher_cache/stage1_cpu-plus')
train_dataloader = dict(dataset=dict(data_root=teacher_cache['out']))
