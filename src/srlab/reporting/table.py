"""The comparison table: one row per setting (the runs that differ only in `seed`; one run each
when no seeds are swept), with the overrides that differ, parameters, steps, wall time, best
PSNR/SSIM per validation set and status; as Markdown, CSV and a terminal table.

Over several seeds a metric is a Spread (mean ± standard deviation over the runs that reached a
validation) and the table gains an `n` column; the notes under the table give each setting's
difference of mean PSNR from the first setting's with its 95% Welch interval.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.markup import escape

from srlab.reporting.runs import Run
from srlab.reporting.stats import Spread, spread, welch_interval
from srlab.training.summary import RunStatus
from srlab.utils.tables import console, print_table

SEED_KEY = "seed"  # runs that differ only in it are repeats of one setting
SETTINGS_SHOWN = 3  # setting columns in the terminal and report.html tables; the files have all
PATH_WIDTH = 40  # a longer path reads as its last parts: `…/DIV2K/DIV2K_train_HR`


@dataclass
class Setting:
    """One row: the runs that differ only in their seed."""

    runs: list[Run]
    what: str  # the settings that set it apart, `n_resblocks=8`; "" when nothing does
    label: str  # for legends: the run's label, or `n_resblocks=8 (n=3)` over seeds

    @property
    def name(self) -> str:
        """Its runs' names, `0, 4, 8`: the table's run column."""
        return ", ".join(run.name for run in self.runs)


@dataclass
class Comparison:
    """The table every output shows, values as numbers where they are numbers (a Spread where
    they are a mean over seeds)."""

    runs: list[Run]
    labels: list[str]  # per run: its name and what differs, for crops: `0 (n_resblocks=1)`
    settings: list[Setting]
    columns: list[str]
    rows: list[list[Any]]  # one per setting
    val_sets: list[str]
    setting_columns: list[str] = field(default_factory=list)  # the last columns: what differs
    notes: list[str] = field(default_factory=list)  # said under the table: how sure it is
    files: dict[str, Path] = field(default_factory=dict)

    @property
    def aggregated(self) -> bool:
        return any(len(setting.runs) > 1 for setting in self.settings)


# ---------------------------------------------------------------- building


def short_names(keys: Sequence[str]) -> list[str]:
    """Each key by its shortest ending, in whole parts, that no other key shares:
    `model.n_resblocks` -> `n_resblocks`, but `model.scale` and `data.scale` stay whole."""
    parts = [re.split(r"[./]", key) for key in keys]  # config keys, and groups: module/optimizer
    names = []
    for key, segments in zip(keys, parts, strict=True):
        for length in range(1, len(segments) + 1):
            if sum(other[-length:] == segments[-length:] for other in parts) == 1:
                names.append(key[len(key) - len("/".join(segments[-length:])) :])
                break
        else:
            names.append(key)
    return names


def differing_settings(runs: Sequence[Run]) -> dict[str, list[str]]:
    """Key -> each run's value, for the override keys whose values differ between runs; `seed`
    too when the configs differ in it without an override."""
    keys = list(dict.fromkeys([*(key for run in runs for key in run.overrides), SEED_KEY]))
    values = {key: [run.setting(key) for run in runs] for key in keys}
    return {key: column for key, column in values.items() if len(set(column)) > 1}


def group_by_setting(settings: dict[str, list[str]], count: int) -> list[list[int]]:
    """Indices of the runs that differ only in seed, groups in the order of their first run;
    one run each when the seed does not differ (identical runs are not seeds of a setting)."""
    if SEED_KEY not in settings:
        return [[index] for index in range(count)]
    others = [column for key, column in settings.items() if key != SEED_KEY]
    groups: dict[tuple[str, ...], list[int]] = {}
    for index in range(count):
        groups.setdefault(tuple(column[index] for column in others), []).append(index)
    return list(groups.values())


def validation_sets(runs: Sequence[Run]) -> list[str]:
    """`Set5` for `val/Set5/psnr`, in the order the runs report them."""
    keys = [key for run in runs for key in run.metrics]
    return list(
        dict.fromkeys(key.split("/")[1] for key in keys if re.fullmatch(r"val/[^/]+/psnr", key))
    )


def settings_label(settings: dict[str, list[str]], index: int) -> str:
    """`n_resblocks=8, lr=0.001`: run `index`'s values of the settings, by their short names."""
    names = short_names(list(settings))
    return ", ".join(
        f"{name}={shorten_path(column[index])}"
        for name, column in zip(names, settings.values(), strict=True)
        if column[index]
    )


def build_comparison(runs: list[Run]) -> Comparison:
    settings = differing_settings(runs)
    labels = [
        f"{run.name} ({what})" if (what := settings_label(settings, index)) else run.name
        for index, run in enumerate(runs)
    ]
    groups = group_by_setting(settings, len(runs))
    aggregated = any(len(group) > 1 for group in groups)
    if aggregated:  # the seeds are what a row averages over, not a column
        settings.pop(SEED_KEY)
    val_sets = validation_sets(runs)
    metrics = [f"val/{name}/{metric}" for name in val_sets for metric in ("psnr", "ssim")]
    costs = measured_costs(runs)
    # the metrics first, what the runs cost next, then the settings that differ (as many as
    # there are: the terminal and report.html show the first few, the files all)
    setting_columns = short_names(list(settings))
    columns = ["run", *metrics, "status", *(["n"] if aggregated else []), "params", *costs]
    columns += ["steps", "wall_s", *setting_columns]
    rows, row_settings = [], []
    for group in groups:
        members = [runs[index] for index in group]
        what = settings_label(settings, group[0])
        label = f"{what or members[0].name} (n={len(members)})" if aggregated else labels[group[0]]
        setting = Setting(members, what, label)
        values = [column[group[0]] for column in settings.values()]
        row_settings.append(setting)
        rows.append(setting_row(setting, values, metrics, aggregated, costs))
    comparison = Comparison(runs, labels, row_settings, columns, rows, val_sets, setting_columns)
    comparison.notes = seed_notes(comparison)
    return comparison


COST_COLUMNS = {"gmacs": "cost.macs", "latency_ms": "cost.latency_ms"}


def measured_costs(runs: Sequence[Run]) -> list[str]:
    """The cost columns some run has (MACs in G; latency when a run measured it)."""
    return [
        column
        for column, key in COST_COLUMNS.items()
        if any(run.summary_value(key) is not None for run in runs)
    ]


def cost_cell(runs: Sequence[Run], column: str) -> Any:
    if column == "latency_ms":
        return mean(runs, "cost.latency_ms")
    macs = shared(runs, "cost.macs")
    return round(macs / 1e9, 2) if isinstance(macs, int) else macs


def setting_row(
    setting: Setting,
    values: Sequence[str],
    metrics: Sequence[str],
    aggregated: bool,
    costs: Sequence[str] = (),
) -> list[Any]:
    """The cells of one setting; a single run's numbers as its summary has them."""
    runs = setting.runs
    return [
        setting.name,
        *(
            runs[0].metrics.get(metric) if len(runs) == 1 else pooled(runs, metric)
            for metric in metrics
        ),
        joint_status(runs),
        *([len(runs)] if aggregated else []),
        shared(runs, "params"),
        *(cost_cell(runs, column) for column in costs),
        shared(runs, "steps"),
        runs[0].summary_value("wall_s") if len(runs) == 1 else mean(runs, "wall_s"),
        *values,
    ]


def shared(runs: Sequence[Run], key: str) -> Any:
    """The value every run reports (seeds share parameters and steps); `min–max` if they do not
    (a seed that failed early)."""
    values = list(dict.fromkeys(v for run in runs if (v := run.summary_value(key)) is not None))
    if len(values) <= 1:
        return values[0] if values else None
    return f"{min(values)}–{max(values)}"


def mean(runs: Sequence[Run], key: str) -> float | None:
    values = spread(run.summary_value(key) for run in runs)
    return values.mean if values else None


def pooled(runs: Sequence[Run], metric: str) -> Spread | None:
    return spread(run.metrics.get(metric) for run in runs)


def joint_status(runs: Sequence[Run]) -> str:
    """`completed`, or `2× completed; 1× failed: ...` when the seeds of a setting disagree."""
    counts = Counter(run.status for run in runs)
    if len(counts) == 1:
        return next(iter(counts))
    return "; ".join(f"{count}× {status}" for status, count in counts.items())


# ---------------------------------------------------------------- how sure


def seed_notes(comparison: Comparison) -> list[str]:
    """What the ± means; with two settings or more, the difference of each one's mean PSNR from
    the first setting's (the sweep's first value: its baseline), per set."""
    if not comparison.aggregated:
        return []
    notes = [
        "PSNR/SSIM: mean ± standard deviation over the seeds of a setting that reached a "
        "validation; n: the setting's runs; wall_s: mean."
    ]
    first, *others = comparison.settings
    if others:
        notes.append(
            "Differences from the first setting: an interval that excludes 0 is a difference "
            "larger than the seeds' spread."
        )
    notes += [
        difference_note(first, other, val_set)
        for val_set in comparison.val_sets
        for other in others
    ]
    return notes


def difference_note(first: Setting, second: Setting, val_set: str) -> str:
    """`Set5 PSNR, n_resblocks=2 − n_resblocks=1: +0.12 dB, 95% interval [+0.03, +0.21] dB ...`"""
    a, b = (pooled(setting.runs, f"val/{val_set}/psnr") for setting in (first, second))
    names = [setting.what or setting.label for setting in (first, second)]
    head = f"{val_set} PSNR, {names[1]} − {names[0]}"
    difference = welch_interval(a, b) if a and b else None
    if difference is None:
        return f"{head}: no interval; it needs at least 2 seeds of each setting with a validation"
    return (
        f"{head}: {difference.estimate:+.2f} dB, {difference.level:.0%} interval "
        f"[{difference.low:+.2f}, {difference.high:+.2f}] dB (Welch's t, "
        f"{difference.df:.1f} degrees of freedom; n = {a.n} and {b.n})"
    )


# ---------------------------------------------------------------- the table as text


def sort_value(value: Any) -> Any:
    """The number a cell sorts and compares by: a Spread's mean."""
    return value.mean if isinstance(value, Spread) else value


def shorten_path(text: str) -> str:
    """A path longer than PATH_WIDTH as its last two parts, `…/DIV2K/DIV2K_train_HR`."""
    if len(text) <= PATH_WIDTH or "/" not in text.strip("/"):
        return text
    return "…/" + "/".join(text.rstrip("/").split("/")[-2:])


def format_value(column: str, value: Any) -> str:
    """How a value reads in a table: PSNR 2 decimals, SSIM 4, seconds 1; blank when missing;
    `35.44 ± 0.03` over seeds; a long path by its last parts (the CSV has it whole)."""
    if value is None:
        return ""
    if isinstance(value, str) and column != "status":
        return shorten_path(value)
    if isinstance(value, Spread):
        text = format_value(column, value.mean)
        return text if value.std is None else f"{text} ± {format_value(column, value.std)}"
    if isinstance(value, float):
        digits = 4 if column.endswith("ssim") else 1 if column == "wall_s" else 2
        return f"{value:.{digits}f}"
    return str(value)


def is_numeric(column: int, rows: Sequence[Sequence[Any]]) -> bool:
    """A column sorts and aligns as numbers when every value it has is a number or reads as one."""
    values = [sort_value(row[column]) for row in rows if row[column] not in (None, "")]
    return bool(values) and all(_number(value) is not None for value in values)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def best_rows(comparison: Comparison) -> dict[int, int]:
    """Column index -> the row with the highest PSNR/SSIM in it (higher is better for both)."""
    best = {}
    for column, name in enumerate(comparison.columns):
        if name.startswith("val/"):
            scored = [(sort_value(row[column]), index) for index, row in enumerate(comparison.rows)]
            scored = [(value, index) for value, index in scored if value is not None]
            if scored:
                best[column] = max(scored)[1]
    return best


def markdown_table(comparison: Comparison) -> str:
    """The table, then its notes as paragraphs."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    numeric = [is_numeric(column, comparison.rows) for column in range(len(comparison.columns))]
    lines = [
        "| " + " | ".join(cell(name) for name in comparison.columns) + " |",
        "|" + "|".join("---:" if right else ":---" for right in numeric) + "|",
    ]
    for row in comparison.rows:
        values = [
            cell(format_value(name, v)) for name, v in zip(comparison.columns, row, strict=True)
        ]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n" + "".join(f"\n{note}\n" for note in comparison.notes)


def csv_table(comparison: Comparison) -> str:
    """Full-precision numbers: the CSV is for further analysis, not for reading. Over seeds a
    metric is two columns, `<metric>_mean` and `<metric>_std`, and wall time is `wall_s_mean`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([head for name in comparison.columns for head in csv_header(comparison, name)])
    for row in comparison.rows:
        cells = zip(comparison.columns, row, strict=True)
        writer.writerow(
            [cell for name, value in cells for cell in csv_cells(comparison, name, value)]
        )
    return buffer.getvalue()


def csv_header(comparison: Comparison, column: str) -> list[str]:
    if not comparison.aggregated:
        return [column]
    if column.startswith("val/"):
        return [f"{column}_mean", f"{column}_std"]
    return ["wall_s_mean"] if column == "wall_s" else [column]


def csv_cells(comparison: Comparison, column: str, value: Any) -> list[Any]:
    if isinstance(value, Spread):
        return [value.mean, "" if value.std is None else value.std]
    plain = "" if value is None else value
    return [plain, ""] if comparison.aggregated and column.startswith("val/") else [plain]


def shown_columns(comparison: Comparison) -> list[int]:
    """The columns of the terminal and report.html tables: all but the settings past the first
    SETTINGS_SHOWN (they are in the files, and under a fold in report.html)."""
    hidden = len(comparison.setting_columns[SETTINGS_SHOWN:])  # the last columns
    return list(range(len(comparison.columns) - hidden))


def hidden_settings_note(comparison: Comparison) -> str:
    """What the terminal table leaves out, and where it is."""
    hidden = comparison.setting_columns[SETTINGS_SHOWN:]
    if not hidden:
        return ""
    return (
        f"{len(hidden)} more settings differ ({', '.join(hidden)}): see comparison.md, "
        "comparison.csv or report.html (html=true)"
    )


def print_comparison(comparison: Comparison, title: str) -> None:
    """The table in the terminal (metrics first, the first few settings that differ), the best
    PSNR/SSIM in bold and runs that did not complete in colour, then its notes."""
    best = best_rows(comparison)
    shown = shown_columns(comparison)
    rows = []
    for index, row in enumerate(comparison.rows):
        cells = []
        for column in shown:
            name, value = comparison.columns[column], row[column]
            text = escape(format_value(name, value))
            if best.get(column) == index:
                text = f"[bold]{text}[/]"
            elif name == "status" and value != RunStatus.COMPLETED:
                text = f"[{'red' if value.startswith(RunStatus.FAILED) else 'yellow'}]{text}[/]"
            cells.append(text)
        rows.append(cells)
    print_table(title, [escape(comparison.columns[column]) for column in shown], rows)
    for note in [hidden_settings_note(comparison), *comparison.notes]:
        if note:
            console().print(escape(note), highlight=False)
