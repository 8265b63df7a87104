"""Means over seeds and Welch's interval for the difference of two means, against scipy and the
formulas by hand."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from srlab.reporting.stats import Spread, spread, welch_interval


def test_spread_is_the_mean_sample_std_and_count_of_the_values_present() -> None:
    assert spread([30.0, None, 32.0, 34.0]) == Spread(32.0, 2.0, 3)
    assert spread([30.5]) == Spread(30.5, None, 1)
    assert spread([None]) is None


def test_welch_interval_matches_scipy_and_the_formula_by_hand() -> None:
    a, b = [30.0, 31.0, 32.0], [32.0, 34.0, 36.0, 33.0]

    difference = welch_interval(spread(a), spread(b))

    # by hand: variances of the means 1/3 and (35/12)/4, Welch-Satterthwaite df, t quantile
    var_a, var_b = 1.0 / 3, (35.0 / 12) / 4
    df = (var_a + var_b) ** 2 / (var_a**2 / 2 + var_b**2 / 3)
    half = stats.t.ppf(0.975, df) * math.sqrt(var_a + var_b)
    assert difference.estimate == pytest.approx(2.75)
    assert difference.df == pytest.approx(df)
    assert (difference.low, difference.high) == pytest.approx((2.75 - half, 2.75 + half))
    scipy_interval = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert (difference.low, difference.high) == pytest.approx(tuple(scipy_interval))


def test_welch_interval_needs_two_values_on_each_side() -> None:
    assert welch_interval(spread([30.0]), spread([31.0, 32.0])) is None
