"""The comparison's plots: best PSNR against parameters, training time, MACs and latency, with
the Pareto front of each (comparison.png), and validation PSNR against step (the report's
learning curves). A setting of
several seeds is drawn at its means, with ± one standard deviation as error bars or a band.

Each plot is a matplotlib Figure, so that a test can read what it shows; figure_png writes one.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from srlab.reporting.runs import Run, bicubic_psnr
from srlab.reporting.stats import Spread, spread
from srlab.reporting.table import Comparison, Setting

# (summary key, axis label, factor for the axis)
PANELS = (
    ("params", "parameters", 1.0),
    ("wall_s", "training wall time (s)", 1.0),
    ("cost.macs", "MACs (G), 1280x720 output", 1e-9),
    ("cost.latency_ms", "latency (ms)", 1.0),
)
LOG_SPAN = 20  # an axis whose values span more than this factor is drawn log-scaled
MARKERS = "osD^v<>p*"  # one per validation set
LEGEND_WIDTH = 40  # a longer label (the settings of a run of many) is the run's name alone


@dataclass
class Point:
    """One setting in a panel: means over its seeds, ± their standard deviations (0 for one)."""

    x: float
    y: float
    x_err: float
    y_err: float
    name: str


def figure_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def pareto_front(points: Sequence[tuple[float, float]]) -> list[int]:
    """Indices of the points that no other point beats on both (lower x, higher y), by x."""
    order = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    front, best = [], float("-inf")
    for index in order:
        if points[index][1] > best:
            front.append(index)
            best = points[index][1]
    return front


def draw_pareto_front(axis: Axes, points: Sequence[Point]) -> None:
    """The settings no other beats on both cost and PSNR, joined by a dashed line."""
    front = [points[i] for i in pareto_front([(point.x, point.y) for point in points])]
    if len(front) > 1:
        axis.plot(
            [p.x for p in front],
            [p.y for p in front],
            "--",
            color="tab:red",
            linewidth=1,
            zorder=2,
            label="Pareto front",
        )


def psnr_points(
    comparison: Comparison, x_key: str, val_set: str, factor: float = 1.0
) -> list[Point]:
    """A point per setting that has runs with both `x_key` (summary) and the set's PSNR."""
    points = []
    for setting in comparison.settings:
        pairs = [
            (run.summary_value(x_key), run.metrics.get(f"val/{val_set}/psnr"))
            for run in setting.runs
        ]
        pairs = [pair for pair in pairs if None not in pair]
        if pairs:
            x, y = spread(x * factor for x, _ in pairs), spread(y for _, y in pairs)
            points.append(Point(x.mean, y.mean, x.std or 0.0, y.std or 0.0, setting.name))
    return points


def draw_points(axis: Axes, points: Sequence[Point], marker: str, val_set: str) -> None:
    """The points of one validation set, error bars where a setting has several seeds, each
    labelled by its runs' names (the table and the curves' legend say more)."""
    x_errors = [point.x_err for point in points]
    y_errors = [point.y_err for point in points]
    axis.errorbar(
        [point.x for point in points],
        [point.y for point in points],
        xerr=x_errors if any(x_errors) else None,
        yerr=y_errors if any(y_errors) else None,
        fmt=marker,
        capsize=3,
        label=val_set,
        zorder=3,
    )
    middle = (min(point.x for point in points) + max(point.x for point in points)) / 2
    for point in points:
        left = point.x > middle  # labels point inwards, so that none leaves the figure
        axis.annotate(
            point.name,
            (point.x, point.y),
            textcoords="offset points",
            xytext=(-4 if left else 4, 4),
            ha="right" if left else "left",
            fontsize=7,
        )


def draw_bicubic(axis: Axes, runs: Sequence[Run], val_set: str) -> None:
    """The set's bicubic PSNR as a dashed line, named at its left end."""
    baseline = bicubic_psnr(runs, val_set)
    if baseline is None:
        return
    axis.axhline(baseline, color="gray", linestyle="--", linewidth=1)
    axis.annotate(
        f"bicubic {val_set}",
        (0.01, baseline),
        xycoords=("axes fraction", "data"),
        textcoords="offset points",
        xytext=(0, 3),
        fontsize=7,
        color="gray",
    )


def finish_panel(axis: Axes, runs: Sequence[Run], x_key: str, x_label: str) -> None:
    """Log-scaled costs when they span more than LOG_SPAN; labels and a light grid; a panel
    with nothing to show says why."""
    xs = [x for run in runs if (x := run.summary_value(x_key))]
    if x_key != "wall_s" and xs and max(xs) > LOG_SPAN * min(xs):
        axis.set_xscale("log")
    if not xs:
        hint = " (train with cost.latency=true)" if x_key == "cost.latency_ms" else ""
        axis.text(
            0.5, 0.5, f"not measured{hint}", ha="center", transform=axis.transAxes, color="gray"
        )
    axis.set_xlabel(x_label)
    axis.margins(x=0.1)
    axis.grid(alpha=0.3)


def psnr_figure(comparison: Comparison) -> Figure:
    """Four panels: best PSNR against parameters, training wall time, MACs and latency, with
    each set's Pareto front (what no other setting beats on both)."""
    figure = Figure(figsize=(11, 8.0), layout="constrained")
    axes = figure.subplots(2, 2, sharey=True).flatten()
    plotted = False
    for axis, (x_key, x_label, factor) in zip(axes, PANELS, strict=True):
        for val_set, marker in zip(comparison.val_sets, MARKERS, strict=False):
            points = psnr_points(comparison, x_key, val_set, factor)
            if points:
                plotted = True
                draw_points(axis, points, marker, val_set)
                draw_pareto_front(axis, points)
                draw_bicubic(axis, comparison.runs, val_set)
        finish_panel(axis, comparison.runs, x_key, x_label)
    for axis in axes[::2]:
        axis.set_ylabel("best validation PSNR (dB)")
    if plotted and len(comparison.val_sets) > 1:
        axes[0].legend(fontsize=8)
    if not plotted:
        figure.suptitle("no run has reached a validation yet")
    return figure


def mean_curve(runs: Sequence[Run], key: str) -> tuple[list[int], list[Spread]]:
    """The steps at which every run that validated logged `key`, and the values' spread there."""
    histories = [
        {
            entry["step"]: entry[key]
            for entry in run.summary_value("history") or []
            if entry.get(key) is not None
        }
        for run in runs
    ]
    histories = [history for history in histories if history]
    if not histories:
        return [], []
    steps = [step for step in histories[0] if all(step in other for other in histories[1:])]
    return steps, [spread(history[step] for history in histories) for step in steps]


def draw_curve(axis: Axes, setting: Setting, key: str) -> None:
    """A setting's mean curve; over several seeds, a band of ± one standard deviation."""
    steps, spreads = mean_curve(setting.runs, key)
    if not steps:
        return
    means = np.array([value.mean for value in spreads])
    # a legend of long labels outgrows the axes, and the figure's layout gives up
    label = setting.label if len(setting.label) <= LEGEND_WIDTH else setting.name
    (line,) = axis.plot(steps, means, marker=".", label=label)
    if any(value.std is not None for value in spreads):
        stds = np.array([value.std or 0.0 for value in spreads])
        axis.fill_between(steps, means - stds, means + stds, color=line.get_color(), alpha=0.2)


def learning_curves_figure(comparison: Comparison) -> Figure:
    """Validation PSNR against step, one panel per validation set, one line per setting."""
    val_sets = comparison.val_sets or ["-"]
    figure = Figure(figsize=(max(8.0, 5.5 * len(val_sets)), 4.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(val_sets), squeeze=False)[0])
    for axis, val_set in zip(axes, val_sets, strict=True):
        for setting in comparison.settings:
            draw_curve(axis, setting, f"val/{val_set}/psnr")
        baseline = bicubic_psnr(comparison.runs, val_set)
        if baseline is not None:
            axis.axhline(baseline, color="gray", linestyle="--", linewidth=1, label="bicubic")
        axis.set_title(val_set)
        axis.set_xlabel("step")
        axis.set_ylabel("validation PSNR (dB)")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7)
    return figure
