"""The generalization table of a degradation study: rows = the degradation a net was trained
on, columns = the one it is evaluated on, per set; each cell the mean ± standard deviation of
PSNR (and SSIM) over the seeds, and the gap: how far it is below the best net of its column.

It reads what experiments/degradation/run.sh leaves: a sweep's runs (each run's training
degradation is its `degradation` choice, the runs of one choice are its seeds) and, in each run,
`srlab.eval`'s results.json per evaluation degradation (`<run>/eval/<degradation>/`); optionally
the bicubic interpolation baseline's (`<baseline>/<degradation>/`), a row of its own.
Written as table.md and table.csv.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from srlab.reporting.runs import Run
from srlab.reporting.stats import Spread, spread
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_atomic
from srlab.utils.tables import print_table

LABELS = {"bicubic": "BI", "bd": "BD", "dn": "DN"}  # the papers' names; others as the option
BASELINE = "bicubic interpolation"  # the row of no net
METRICS = ("psnr", "ssim")
RESULTS = "results.json"  # srlab.eval's output in its run directory


@dataclass
class GapTable:
    trained_on: list[str]  # rows: degradation options, BASELINE first when there is one
    evaluated_on: list[str]  # columns
    sets: list[str]
    cells: dict[tuple[str, str, str], dict[str, Spread]]  # (trained, evaluated, set) -> metric

    @property
    def nets(self) -> list[str]:
        return [trained for trained in self.trained_on if trained != BASELINE]

    def psnr(self, trained: str, evaluated: str, set_name: str) -> Spread:
        return self.cells[trained, evaluated, set_name]["psnr"]

    def gap(self, trained: str, evaluated: str, set_name: str) -> float | None:
        """Mean PSNR minus the column's best net's (0 for that net); None for the baseline."""
        if trained == BASELINE:
            return None
        best = max(self.psnr(net, evaluated, set_name).mean for net in self.nets)
        return self.psnr(trained, evaluated, set_name).mean - best


def label(degradation: str) -> str:
    return LABELS.get(degradation, degradation)


def eval_results(folder: Path, degradation: str) -> dict[str, dict[str, float]]:
    """set -> {"psnr", "ssim", "images"}: `srlab.eval`'s results in `folder/<degradation>/`."""
    path = folder / degradation / RESULTS
    if not path.is_file():
        raise SRLabError(
            f"{path} not found: write it with `python -m srlab.eval ... degradation={degradation}"
            f" hydra.run.dir={path.parent}` (as experiments/degradation/run.sh does)"
        )
    results = json.loads(path.read_text())
    return {name: scores for name, scores in results.items() if name != "cost"}


def gap_table(
    runs: Sequence[Run], evaluated_on: Sequence[str], baseline: Path | None = None
) -> GapTable:
    """Each run's scores from its `eval/<degradation>/`, pooled over the runs of one training
    degradation; the baseline's from `baseline/<degradation>/` when given."""
    if not runs:
        raise SRLabError("no runs to tabulate: pass the degradation sweep's directory")
    scores: dict[tuple[str, str, str], dict[str, list[float]]] = {}
    sources = [(BASELINE, baseline)] if baseline is not None else []
    sources += [(run.setting("degradation"), run.path / "eval") for run in runs]
    for trained, folder in sources:
        for evaluated in evaluated_on:
            for set_name, metrics in eval_results(folder, evaluated).items():
                cell = scores.setdefault((trained, evaluated, set_name), {m: [] for m in METRICS})
                for metric in METRICS:
                    cell[metric].append(metrics[metric])
    return GapTable(
        trained_on=list(dict.fromkeys(trained for trained, _ in sources)),
        evaluated_on=list(evaluated_on),
        sets=list(dict.fromkeys(set_name for _, _, set_name in scores)),
        cells={
            key: {metric: spread(values) for metric, values in metrics.items()}
            for key, metrics in scores.items()
        },
    )


# ---------------------------------------------------------------- the table as text


def spread_text(value: Spread) -> str:
    return f"{value.mean:.2f}" if value.std is None else f"{value.mean:.2f} ± {value.std:.2f}"


def psnr_rows(table: GapTable, set_name: str) -> list[list[str]]:
    """A row per training degradation (`BD (n=3)`): its PSNR under each evaluation one."""
    rows = []
    for trained in table.trained_on:
        cells = [table.psnr(trained, evaluated, set_name) for evaluated in table.evaluated_on]
        name = label(trained) if trained == BASELINE else f"{label(trained)} (n={cells[0].n})"
        rows.append([name, *map(spread_text, cells)])
    return rows


def gap_rows(table: GapTable, set_name: str) -> list[list[str]]:
    """A row per net: dB from the column's best net."""
    return [
        [label(net), *(f"{table.gap(net, e, set_name):+.2f}" for e in table.evaluated_on)]
        for net in table.nets
    ]


def markdown(table: GapTable, title: str = "") -> str:
    """`title` as a heading, then per set the PSNR table and the gap table."""
    head = ["trained on ↓ / evaluated on →", *map(label, table.evaluated_on)]
    blocks = []
    for set_name in table.sets:
        for caption, rows in (
            (f"{set_name} PSNR (dB), mean ± std over seeds", psnr_rows(table, set_name)),
            (f"{set_name}: dB from the best net of the column", gap_rows(table, set_name)),
        ):
            lines = [
                f"{caption}\n",
                "| " + " | ".join(head) + " |",
                "| --- |" + " ---: |" * len(table.evaluated_on),
                *("| " + " | ".join(row) + " |" for row in rows),
            ]
            blocks.append("\n".join(lines) + "\n")
    return (f"# {title}\n\n" if title else "") + "\n".join(blocks)


def csv_text(table: GapTable) -> str:
    """Full precision, a line per set × training degradation × evaluation degradation."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["set", "trained_on", "evaluated_on", "n"]
        + [f"{metric}_{part}" for metric in METRICS for part in ("mean", "std")]
        + ["gap_db"]
    )
    for set_name in table.sets:
        for trained in table.trained_on:
            for evaluated in table.evaluated_on:
                metrics = [table.cells[trained, evaluated, set_name][m] for m in METRICS]
                values = [v for m in metrics for v in (m.mean, m.std)]
                gap = table.gap(trained, evaluated, set_name)
                writer.writerow(
                    [set_name, trained, evaluated, metrics[0].n]
                    + ["" if value is None else value for value in [*values, gap]]
                )
    return buffer.getvalue()


def print_gap_table(table: GapTable) -> None:
    for set_name in table.sets:
        print_table(
            f"{set_name} PSNR (dB): trained on (rows), evaluated on (columns)",
            ["trained on", *map(label, table.evaluated_on)],
            psnr_rows(table, set_name),
        )


def write_gap_table(table: GapTable, folder: Path, title: str = "") -> list[Path]:
    """table.md (under `title`) and table.csv in `folder`."""
    written = []
    for name, text in (("table.md", markdown(table, title)), ("table.csv", csv_text(table))):
        write_atomic(folder / name, text.encode())
        written.append(folder / name)
    return written
