"""tools/analysis_tools/detection_benchmark.py: the derived test configs and the table."""
import json
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

from ..conftest import REPO_ROOT
from ..helpers import load_tool, make_empty_det_root

DET_CONFIG = REPO_ROOT / 'configs' / 'detection' / 'rtmdet-tiny_demo-shapes.py'


@pytest.fixture()
def bench():
    return load_tool('analysis_tools/detection_benchmark.py')


def _det_root(tmp_path):
    return make_empty_det_root(tmp_path)


def test_derived_config_puts_a_frozen_restorer_with_its_border_in_front(bench, tmp_path):
    root = _det_root(tmp_path)
    net = bench.restorer_config('UniRemovalNetS')
    assert net['type'] == 'mmagic.UniRemovalNetS'
    for border in (0, 16):
        path = tmp_path / f'haze_{border}.py'
        path.write_text(bench.derived_config(DET_CONFIG, root, 'haze', net, 'ckpt.pth',
                                             border=border))
        cfg = Config.fromfile(str(path))
        pre = cfg.model.data_preprocessor
        assert pre.type == 'UniRemovalPreprocessor' and pre.freeze and pre.keep_restored
        assert pre.get('border', 0) == border  # 0 is the pre-processor's own default
        assert cfg.test_dataloader.dataset.ann_file == str(root / 'haze' / 'val.json')
        assert cfg.test_dataloader.dataset.get('indices') is None
        metrics = [m['type'] for m in cfg.test_evaluator]
        assert metrics == ['CocoMetric', 'RestorationQualityMetric']
    raw = tmp_path / 'clean_raw.py'
    raw.write_text(bench.derived_config(DET_CONFIG, root, 'clean', None, None, border=16))
    cfg = Config.fromfile(str(raw))
    assert cfg.model.data_preprocessor.type == 'DetDataPreprocessor'  # raw: no restorer
    with pytest.raises(FileNotFoundError, match='rain'):
        bench.derived_config(DET_CONFIG, root, 'rain', None, None)


def test_a_subset_of_images_is_its_own_annotation_file_for_dataset_and_metric(
        bench, tmp_path, monkeypatch):
    # the COCO metric scores every image of its ann_file: with the full val.json and a
    # few images tested, the rest would count as missed detections
    root = _det_root(tmp_path)
    coco = dict(images=[dict(id=10 + i, file_name=f'{i}.png', width=9, height=7)
                        for i in range(5)],
                annotations=[dict(id=i, image_id=10 + i, category_id=1, bbox=[1, 1, 3, 2],
                                  area=6, iscrowd=0) for i in range(5)],
                categories=[dict(id=1, name='disk')])
    (root / 'haze' / 'val.json').write_text(json.dumps(coco))
    monkeypatch.chdir(tmp_path)
    out = Path('cfgs')  # relative, as a --work-dir is: the config must not join it to root
    for kwargs, ids in ((dict(images=range(3, 5)), [13, 14]), (dict(max_images=2), [10, 11])):
        path = tmp_path / 'subset.py'
        path.write_text(bench.derived_config(DET_CONFIG, root, 'haze', None, None,
                                             subset_dir=out, **kwargs))
        cfg = Config.fromfile(str(path))
        ann = cfg.test_dataloader.dataset.ann_file
        assert cfg.test_evaluator[0]['ann_file'] == ann
        assert ann.startswith(str(tmp_path / 'cfgs'))
        sub = json.loads(Path(ann).read_text())
        assert [im['id'] for im in sub['images']] == ids
        assert [a['image_id'] for a in sub['annotations']] == ids
    with pytest.raises(ValueError, match='the file has 5'):
        bench.derived_config(DET_CONFIG, root, 'haze', None, None, images=range(4, 6),
                             subset_dir=out)
    with pytest.raises(ValueError, match='not both'):
        bench.derived_config(DET_CONFIG, root, 'haze', None, None, max_images=1,
                             images=range(1), subset_dir=out)


def test_table_gives_the_recovered_share_and_skips_sets_with_no_loss(bench):
    rows = [dict(set='clean', mode='raw', **{'coco/bbox_mAP': 0.8, 'coco/bbox_mAP_50': 0.9}),
            dict(set='haze', mode='raw', **{'coco/bbox_mAP': 0.6, 'coco/bbox_mAP_50': 0.7}),
            dict(set='haze', mode='restored', **{'coco/bbox_mAP': 0.7, 'coco/bbox_mAP_50': 0.8,
                                                 'restoration/input_PSNR': 12.0,
                                                 'restoration/PSNR': 18.5}),
            dict(set='rain', mode='raw', **{'coco/bbox_mAP': 0.795}),
            dict(set='rain', mode='restored', **{'coco/bbox_mAP': 0.7})]
    lines = bench.table(rows).splitlines()
    haze = next(line for line in lines if line.startswith('| haze'))
    assert '+50%' in haze and '12.00 → 18.50 dB' in haze
    rain = next(line for line in lines if line.startswith('| rain'))
    assert '(no loss)' in rain


@pytest.mark.parametrize('args, message', [
    (['--border', '-1'], '--border must be >= 0'),
    (['--modes', 'restored'], '--restorer-checkpoint is needed'),
    (['--jobs', '0'], '--jobs must be >= 1'),
])
def test_bad_arguments_are_named(bench, args, message, capsys):
    with pytest.raises(SystemExit):
        bench.main([str(DET_CONFIG), 'det.pth', *args])
    assert message in capsys.readouterr().err


def test_arm_table_gives_mean_sd_recovered_share_and_paired_differences(bench):
    m = 'coco/bbox_mAP'
    rows = [dict(set='clean', mode='raw', **{m: 0.8}), dict(set='haze', mode='raw', **{m: 0.6}),
            dict(set='clean', mode='released', **{m: 0.79}),
            dict(set='haze', mode='released', **{m: 0.62, 'restoration/input_PSNR': 12.0,
                                                 'restoration/PSNR': 17.25})]
    for seed, (a, b) in enumerate(((0.70, 0.64), (0.72, 0.66), (0.68, 0.65))):
        rows += [dict(set='haze', mode=f'tuned s{seed}', **{m: a}),
                 dict(set='haze', mode=f'ctrl s{seed}', **{m: b}),
                 dict(set='clean', mode=f'tuned s{seed}', **{m: 0.8}),
                 dict(set='clean', mode=f'ctrl s{seed}', **{m: 0.8})]
    md = bench.arm_table(rows, ['ctrl s0', 'ctrl s1', 'ctrl s2', 'tuned s0', 'tuned s1',
                                'tuned s2', 'released'])
    lines = md.splitlines()
    assert lines[0] == '| set | raw | ctrl (n=3) | tuned (n=3) | released (n=1) |'
    haze = next(line for line in lines if line.startswith('| haze | 0.600'))
    # tuned: mean 0.70, sd 0.02, recovers (0.70 - 0.60) / 0.2 = 50 %
    assert '0.700 ± 0.020 (+50%)' in haze and '0.650 ± 0.010 (+25%)' in haze
    assert '0.620 (+10%)' in haze
    assert '| haze | 12.00 |  |  | 17.25 |' in lines  # PSNR where the run measured it
    paired = lines[lines.index('| set | tuned | released |'):]
    # tuned - ctrl per seed: 0.06, 0.06, 0.03; the fixed released model against each
    # ctrl seed: -0.02, -0.04, -0.03
    assert '| haze | 0.050 ± 0.017 (n=3) | -0.030 ± 0.010 (n=3) |' in paired
    # a loss under MIN_LOSS (0.02) has no share: rain lost 0.015
    rows += [dict(set='rain', mode='raw', **{m: 0.785}),
             dict(set='rain', mode='released', **{m: 0.70})]
    rain = next(line for line in bench.arm_table(rows, ['released']).splitlines()
                if line.startswith('| rain'))
    assert rain == '| rain | 0.785 | 0.700 (no loss) |'


def test_students_are_named_checked_and_finished_runs_reused(bench, tmp_path, capsys):
    ckpt = tmp_path / 'a.pth'
    ckpt.write_bytes(b'x')
    for specs, message in ((['nameless'], 'expected NAME=CHECKPOINT'),
                           ([f'raw={ckpt}'], "the name 'raw' is taken"),
                           (['a=missing.pth'], 'missing.pth not found'),
                           ([f'a={ckpt}', f'a={ckpt}'], "the name 'a' is taken")):
        with pytest.raises(SystemExit):
            bench.main([str(DET_CONFIG), 'det.pth', *[f'--student={s}' for s in specs]])
        assert message in capsys.readouterr().err
    # a finished run is taken again only for the same config text and detector
    cfg, work = tmp_path / 'run.py', tmp_path / 'run'
    cfg.write_text('a = 1\n')
    work.mkdir()
    assert bench.finished_metrics(cfg, 'det.pth', work) is None
    (work / 'finished.json').write_text(json.dumps(dict(
        config='a = 1\n', checkpoint='det.pth', metrics={'coco/bbox_mAP': 0.5})))
    assert bench.finished_metrics(cfg, 'det.pth', work) == {'coco/bbox_mAP': 0.5}
    assert bench.finished_metrics(cfg, 'other.pth', work) is None
    cfg.write_text('a = 2\n')
    assert bench.finished_metrics(cfg, 'det.pth', work) is None


def test_detectors_are_parsed_and_their_errors_named(bench, tmp_path):
    cfg, ckpt = tmp_path / 'ft.py', tmp_path / 'ft.pth'
    cfg.write_text('a = 1\n')
    ckpt.write_bytes(b'x')
    assert bench.parse_detector(f' joint s0 ={cfg},{ckpt}') == ('joint s0', cfg, str(ckpt))
    with pytest.raises(ValueError, match='expected NAME=CONFIG,CHECKPOINT'):
        bench.parse_detector(f'joint={cfg}')
    with pytest.raises(ValueError, match='missing.pth not found'):
        bench.parse_detector(f'joint={cfg},missing.pth')


def test_detectors_run_with_their_own_config_and_checkpoint_in_the_order_given(
        bench, tmp_path, monkeypatch, capsys):
    root = _det_root(tmp_path)
    joint = REPO_ROOT / 'configs' / 'detection' / 'rtmdet-tiny_demo-shapes300_uniremoval-s_joint.py'
    plain = REPO_ROOT / 'configs' / 'detection' / 'rtmdet-tiny_demo-shapes300_degraded-ft.py'
    ckpts = {}
    for name in ('c0', 'c1', 'j0', 'j1', 'student'):
        ckpts[name] = tmp_path / f'{name}.pth'
        ckpts[name].write_bytes(b'x')
    # the fake test run: mAP from the checkpoint's name and the set; what ran is recorded
    ran = []
    score = {'det.pth': 0.5, 'c0.pth': 0.60, 'c1.pth': 0.62, 'j0.pth': 0.65,
             'j1.pth': 0.66, }

    def fake_run(config, checkpoint, work_dir, threads=None):
        text = config.read_text()
        ran.append((config.name, Path(checkpoint).name, text))
        value = score[Path(checkpoint).name] + (0.3 if '_clean_' in config.name else 0)
        return {'coco/bbox_mAP': value, 'seconds': 0.0}

    from uniremoval_mm.evaluation import detection_benchmark as api
    monkeypatch.setattr(api, 'run_one', fake_run)  # the tool runs the package's
    args = [str(DET_CONFIG), 'det.pth', '--data-root', str(root), '--sets', 'clean', 'haze',
            '--work-dir', str(tmp_path / 'w'), '--label', 'ft',
            '--detector', f'joint s0={joint},{ckpts["j0"]}',
            '--detector', f'control s0={plain},{ckpts["c0"]}',
            '--detector', f'joint s1={joint},{ckpts["j1"]}',
            '--detector', f'control s1={plain},{ckpts["c1"]}']
    assert bench.main(args) == 0
    out = capsys.readouterr().out
    # the main detector runs raw only (no restorer given), each fine-tuned one on each set
    assert sorted((c, k) for c, k, _ in ran) == sorted(
        [(f'ft_{s}_{n}.py', k) for s in ('clean', 'haze') for n, k in (
            ('raw', 'det.pth'), ('joint_s0', 'j0.pth'), ('joint_s1', 'j1.pth'),
            ('control_s0', 'c0.pth'), ('control_s1', 'c1.pth'))])
    texts = {c: t for c, _, t in ran}
    assert f'_base_ = {str(joint)!r}' in texts['ft_haze_joint_s0.py']
    # the joint detector keeps its own restorer, now keeping the restored image for PSNR
    assert 'keep_restored=True' in texts['ft_haze_joint_s0.py']
    assert 'RestorationQualityMetric' in texts['ft_haze_joint_s0.py']
    assert f'_base_ = {str(plain)!r}' in texts['ft_haze_control_s1.py']
    assert 'data_preprocessor' not in texts['ft_haze_control_s1.py']
    # columns in the order given: joint first (the paired reference), then control
    assert '| set | raw | joint (n=2) | control (n=2) |' in out
    # haze: clean 0.8, raw 0.5; control 0.60 / 0.62 against joint 0.65 / 0.66
    assert '| haze | 0.500 | 0.655 ± 0.007 (+52%) | 0.610 ± 0.014 (+37%) |' in out
    assert '| haze | -0.045 ± 0.007 (n=2) |' in out
    record = json.loads((tmp_path / 'w' / 'ft.json').read_text())
    assert record['detectors']['joint s0'] == [str(joint), str(ckpts['j0'])]
    # a student and a detector cannot share a name; a bad detector is named
    for extra, message in (([f'--student=joint s0={ckpts["student"]}'], "'joint s0' is taken"),
                           (['--detector', 'x=nope.py,a.pth'], 'nope.py not found'),
                           (['--reference', 'ctrl'], "--reference 'ctrl': not an arm")):
        with pytest.raises(SystemExit):
            bench.main(args + extra)
        assert message in capsys.readouterr().err


def test_paired_differences_against_a_chosen_reference_arm(bench):
    m = 'coco/bbox_mAP'
    rows = [dict(set='haze', mode='raw', **{m: 0.5})]
    for seed, (j, c) in enumerate(((0.70, 0.60), (0.74, 0.62))):
        rows += [dict(set='haze', mode=f'joint s{seed}', **{m: j}),
                 dict(set='haze', mode=f'control s{seed}', **{m: c})]
    rows.append(dict(set='haze', mode='released', **{m: 0.55}))
    order = ['released', 'joint s0', 'joint s1', 'control s0', 'control s1']
    md = bench.arm_table(rows, order, reference='control')
    assert md.splitlines()[0] == '| set | raw | released (n=1) | joint (n=2) | control (n=2) |'
    paired = md.splitlines()[md.splitlines().index('| set | released | joint |'):]
    # released - control per seed: -0.05, -0.07; joint - control: 0.10, 0.12
    assert '| haze | -0.060 ± 0.014 (n=2) | 0.110 ± 0.014 (n=2) |' in paired
    with pytest.raises(ValueError, match="reference arm 'ctrl' is not one of"):
        bench.arm_table(rows, order, reference='ctrl')


def test_plot_draws_every_arm(bench, tmp_path):
    import cv2
    m = 'coco/bbox_mAP'
    rows = [dict(set='clean', mode='raw', **{m: 0.8}), dict(set='haze', mode='raw', **{m: 0.5})]
    for seed in range(3):
        rows += [dict(set=n, mode=f'tuned s{seed}', **{m: v + 0.01 * seed})
                 for n, v in (('clean', 0.79), ('haze', 0.65))]
    rows += [dict(set='haze', mode='released', **{m: 0.55})]
    out = bench.plot_arms(rows, ['tuned s0', 'tuned s1', 'tuned s2', 'released'],
                          tmp_path / 'sub' / 'arms.png')
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 200 and img.shape[1] > 300
    # three arms (raw, tuned, released): matplotlib's first three colours are drawn
    for bgr in ((180, 119, 31), (14, 127, 255), (44, 160, 44)):
        assert (np.abs(img.astype(int) - bgr).sum(axis=2) < 10).sum() > 50, bgr


def test_exact_map_scores_saved_detections_unrounded(bench, tmp_path, capsys):
    images = [dict(id=i, file_name=f'{i}.jpg', width=64, height=48) for i in (1, 2)]
    anns = [dict(id=1, image_id=1, category_id=1, bbox=[4, 4, 20, 10], area=200, iscrowd=0),
            dict(id=2, image_id=2, category_id=1, bbox=[30, 20, 16, 16], area=256, iscrowd=0)]
    ann = tmp_path / 'val.json'
    ann.write_text(json.dumps(dict(images=images, annotations=anns,
                                   categories=[dict(id=1, name='disk')])))
    dets = tmp_path / 'coco.bbox.json'
    # both objects found exactly: mAP 1
    dets.write_text(json.dumps([dict(image_id=a['image_id'], category_id=1, bbox=a['bbox'],
                                     score=0.9) for a in anns]))
    assert bench.exact_map(ann, dets) == pytest.approx(1.0)
    # one found, one missed: 1 at recall 0..0.5 and nothing beyond, COCO's 101-point
    # interpolation gives 51 / 101
    dets.write_text(json.dumps([dict(image_id=1, category_id=1, bbox=[4, 4, 20, 10],
                                     score=0.9)]))
    assert bench.exact_map(ann, dets) == pytest.approx(51 / 101)
    # scored from several threads at once (--jobs): pycocotools' summary never leaks out
    from concurrent.futures import ThreadPoolExecutor
    capsys.readouterr()
    with ThreadPoolExecutor(4) as pool:
        scores = list(pool.map(lambda _: bench.exact_map(ann, dets), range(8)))
    assert scores == [pytest.approx(51 / 101)] * 8 and capsys.readouterr().out == ''
    dets.write_text('[]')
    assert bench.exact_map(ann, dets) == 0.0
    with pytest.raises(FileNotFoundError, match='nope.json not found'):
        bench.exact_map(ann, tmp_path / 'nope.json')
    # added to a run's metrics, checked against mmdet's rounded value
    cfg = tmp_path / 'run.py'
    cfg.write_text(f"test_evaluator = [dict(type='CocoMetric', ann_file={str(ann)!r}, "
                   f"outfile_prefix={str(tmp_path / 'coco')!r})]\n")
    dets.write_text(json.dumps([dict(image_id=1, category_id=1, bbox=[4, 4, 20, 10],
                                     score=0.9)]))
    work = tmp_path / 'work'
    work.mkdir()
    (work / 'finished.json').write_text(json.dumps(dict(config='x', metrics={})))
    out = bench.add_exact_map(cfg, work, {'coco/bbox_mAP': 0.505})
    assert out['coco/bbox_mAP_exact'] == pytest.approx(51 / 101)
    assert json.loads((work / 'finished.json').read_text())['metrics'] == out
    with pytest.raises(RuntimeError, match="is not mmdet's rounded 0.700"):
        bench.add_exact_map(cfg, work, {'coco/bbox_mAP': 0.7})
    # the arm table gains a 4-decimal section
    m = 'coco/bbox_mAP'
    rows = [dict(set='clean', mode='raw', **{m: 0.809, m + '_exact': 0.80912}),
            dict(set='clean', mode='a s0', **{m: 0.803, m + '_exact': 0.80341}),
            dict(set='clean', mode='a s1', **{m: 0.804, m + '_exact': 0.80359})]
    md = bench.arm_table(rows, ['a s0', 'a s1'])
    assert '| clean | 0.8091 | 0.8035 ± 0.0001 |' in md
