"""The plots of a seed sweep: each setting at its mean PSNR with ± one standard deviation as
error bars, and its mean learning curve."""

from __future__ import annotations

import warnings
from pathlib import Path

from helpers.comparisons import SEEDS, drawn_points, runs_of_many_settings, seed_sweep
from srlab.compare import compare, load_config
from srlab.reporting.plots import figure_png, learning_curves_figure, pareto_front, psnr_figure


def test_a_setting_of_several_seeds_is_drawn_at_its_means_with_error_bars(tmp_path: Path) -> None:
    comparison = compare(load_config([str(seed_sweep(tmp_path, SEEDS))]))

    figure = psnr_figure(comparison)

    assert drawn_points(figure, 0, "Set5") == [(2000, 31.0), (8000, 34.0)]
    assert drawn_points(figure, 1, "Set5") == [(12.0, 31.0), (24.0, 34.0)]
    (points,) = figure.axes[0].containers
    _, _, (y_bars,) = points.lines
    assert [segment[:, 1].tolist() for segment in y_bars.get_segments()] == [
        [30.0, 32.0],
        [32.0, 36.0],
    ]


def test_learning_curves_are_one_mean_line_per_setting(tmp_path: Path) -> None:
    comparison = compare(load_config([str(seed_sweep(tmp_path, SEEDS))]))

    (axis,) = learning_curves_figure(comparison).axes

    curves = {line.get_label(): [float(y) for y in line.get_ydata()] for line in axis.lines}
    assert curves == {
        "n_resblocks=2 (n=3)": [30.0, 31.0],
        "n_resblocks=8 (n=3)": [33.0, 34.0],
        "bicubic": [28.0, 28.0],
    }


def test_the_pareto_front_keeps_what_no_other_point_beats_on_cost_and_psnr():
    # (cost, PSNR): the second costs more for less; the fourth ties the first's cost, lower
    points = [(1.0, 30.0), (2.0, 29.0), (3.0, 31.0), (1.0, 28.0), (0.5, 27.0)]
    assert pareto_front(points) == [4, 0, 2]


def test_many_runs_of_long_settings_are_drawn_without_a_layout_warning(tmp_path: Path) -> None:
    comparison = compare(load_config([str(runs_of_many_settings(tmp_path))]))

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # `constrained_layout not applied`, among others
        figure_png(psnr_figure(comparison))
        curves = learning_curves_figure(comparison)
        figure_png(curves)
    labels = curves.axes[0].get_legend_handles_labels()[1]
    assert "2026-12-06_20-00-00" in labels  # the run's name: its 9 settings are the table's
