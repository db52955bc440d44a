"""Fitting the restorer to a user's detector (``tools/adapt_restorer.py``).

Two ways, each one call that resumes where a crash stopped it, each ending in a report
of bbox mAP on the detector's clean and degraded val images:

- :func:`adapt_frozen`: the shipped student tuned against the frozen detector's feature
  maps (detection-aware IGCL with the clean-identity term); writes the student and a
  detector config delta that uses it.
- :func:`adapt_joint`: the detector fine-tuned with the student in front, and a control
  fine-tuned without it; writes the fine-tuned detector and its config.

Their steps are public: :func:`detector_data` checks the detector's COCO-style train and
val data (every problem one :class:`AdaptationError` line naming the file),
:func:`make_degraded_sets` writes degraded copies of the data (seeded, resumable, never
into the source; val laid out for :mod:`uniremoval_mm.evaluation.detection_benchmark`),
:func:`frozen_tuning_config` (with :func:`detector_taps`) and :func:`joint_tuning_config`
write the training configs, :func:`seconds_per_iteration` times the tuning,
:func:`release_student` and :func:`adapted_config` write the results.
"""
from .adapt import (AdaptationResult, adapt_frozen, adapt_joint, release_student,
                    seconds_per_iteration)
from .data import (MIN_IMAGES, AdaptationError, CocoSplit, DegradedSets, DetectorData,
                   detector_data, make_degraded_sets)
from .recipes import (CONFIGS, JOINT_DEGRADE, JOINT_LR_FACTOR, PROGRESS_FILE, SHIPPED_STUDENT,
                      TAP_WEIGHTS, adapted_config, detector_taps, frozen_tuning_config,
                      joint_tuning_config)

__all__ = [
    'AdaptationError', 'AdaptationResult', 'CocoSplit', 'DegradedSets', 'DetectorData',
    'CONFIGS', 'JOINT_DEGRADE', 'JOINT_LR_FACTOR', 'MIN_IMAGES', 'PROGRESS_FILE',
    'SHIPPED_STUDENT', 'TAP_WEIGHTS', 'adapt_frozen', 'adapt_joint', 'adapted_config',
    'detector_data', 'detector_taps', 'frozen_tuning_config', 'joint_tuning_config',
    'make_degraded_sets', 'release_student', 'seconds_per_iteration'
]
