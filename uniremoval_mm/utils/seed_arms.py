"""Runs named ``"ARM sSEED"``: grouped into arms, summarised over seeds, paired by seed.

The analysis tools that compare trained arms (``detection_benchmark.py``,
``stage2_table.py``, ``paired_seeds.py``) name each run ``"<arm> s<seed>"``, report an arm
as mean ± sd over its seeds and compare two arms by the differences of runs with the same
seed.
"""
import re
import statistics
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

_SEEDED = re.compile(r'^(.*\S)\s+s(\d+)$')


def arm_of(name: str) -> Tuple[str, Optional[str]]:
    """Split a run's name into its arm and seed.

    Args:
        name (str): ``'detaware s1'``.

    Returns:
        tuple[str, str | None]: ``('detaware', '1')``; a name without a seed is its own
        arm, with seed None (one fixed model, e.g. ``'released'``).
    """
    m = _SEEDED.match(name)
    return (m.group(1), m.group(2)) if m else (name, None)


def group_arms(names: Sequence[str]) -> Dict[str, Dict[Optional[str], str]]:
    """Group run names by arm.

    Args:
        names (Sequence[str]): Run names, ``"ARM sSEED"`` or seedless.

    Returns:
        dict: Arm to ``{seed: name}``, arms and seeds in the order given.
    """
    arms: Dict[str, Dict[Optional[str], str]] = {}
    for name in names:
        arm, seed = arm_of(name)
        arms.setdefault(arm, {})[seed] = name
    return arms


def mean_sd(values: Sequence[float], digits: int = 3) -> str:
    """Format values over seeds as ``'mean ± sd'`` (sample sd).

    Args:
        values (Sequence[float]): One value per seed.
        digits (int): Decimals of both numbers. Defaults to 3.

    Returns:
        str: ``''`` for no value, the value alone for one, else ``'0.812 ± 0.004'``.
    """
    if not values:
        return ''
    if len(values) == 1:
        return f'{values[0]:.{digits}f}'
    return f'{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}'


def paired_differences(arm: Mapping[Optional[str], float],
                       ref: Mapping[Optional[str], float]) -> List[float]:
    """``arm - ref`` for the runs with the same seed.

    Args:
        arm (Mapping): Seed to value (seed None: a seedless run).
        ref (Mapping): Seed to value of the arm compared against.

    Returns:
        list[float]: One difference per seed both have, in ``arm``'s order. A side that
        is one seedless run (one fixed model) pairs with every seed of the other.
    """
    if len(ref) == 1 and None in ref:
        return [v - ref[None] for v in arm.values()]
    if len(arm) == 1 and None in arm:
        return [arm[None] - v for v in ref.values()]
    return [v - ref[seed] for seed, v in arm.items() if seed in ref]
