"""How sure a comparison is: a metric's mean, standard deviation and count over seeds, and the
difference of two means with its Welch t interval. Pure functions of numbers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Spread:
    """A metric over the seeds of one setting; `std` is the sample standard deviation (n - 1 in
    the denominator, the one a t interval takes), None for a single value."""

    mean: float
    std: float | None
    n: int


@dataclass(frozen=True)
class Difference:
    """`estimate` = mean(b) - mean(a), with its `level` confidence interval [low, high]."""

    estimate: float
    low: float
    high: float
    df: float  # Welch-Satterthwaite degrees of freedom
    level: float


def spread(values: Iterable[float | None]) -> Spread | None:
    """Mean, standard deviation and count of the values that are there; None when none is."""
    present = [float(value) for value in values if value is not None]
    if not present:
        return None
    std = statistics.stdev(present) if len(present) > 1 else None
    return Spread(statistics.fmean(present), std, len(present))


def welch_interval(a: Spread, b: Spread, level: float = 0.95) -> Difference | None:
    """b.mean - a.mean and its Welch t interval: no equal-variance assumption, which seeds of two
    different settings need not meet. None when a side has fewer than 2 values (no std)."""
    if a.std is None or b.std is None:
        return None
    from scipy.stats import t  # scikit-image's dependency; imported here, where it is needed

    var_a, var_b = a.std**2 / a.n, b.std**2 / b.n
    error = math.sqrt(var_a + var_b)
    if error == 0:  # every seed gave the same value on both sides: the interval is a point
        df = float(a.n + b.n - 2)
    else:
        df = (var_a + var_b) ** 2 / (var_a**2 / (a.n - 1) + var_b**2 / (b.n - 1))
    half = float(t.ppf((1 + level) / 2, df)) * error
    estimate = b.mean - a.mean
    return Difference(estimate, estimate - half, estimate + half, df, level)
