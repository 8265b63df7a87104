"""`python -m srlab.compare <sweep dir or run dirs...> [html=true] [output=<dir>]`: the runs of a
sweep side by side, with no network: the overrides that differ, parameters, steps, wall time, best
PSNR/SSIM per validation set and status, written as comparison.md, comparison.csv and
comparison.png (PSNR against parameters and against training time), printed as a table, and
with html=true also as one self-contained report.html. Failed and unfinished runs are marked,
never fatal.

The command line: bare arguments are sweep or run directories (so is any argument naming an
existing path); `key=value` arguments override conf/compare.yaml, `runs=[dir1,dir2]` included.
compare is no training job, so it is not under @hydra.main: it composes its config with Hydra's
compose API and writes no run directory of its own.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from hydra.errors import HydraException
from matplotlib.figure import Figure
from omegaconf import DictConfig, OmegaConf
from rich.console import Console
from rich.table import Table

from srlab.data.io import read_image
from srlab.ops.convert import as_batch
from srlab.ops.quality import psnr
from srlab.reporting.html import Crop, build_report
from srlab.training.summary import read_summary
from srlab.utils.entry import run_entry_point
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_atomic
from srlab.utils.hydra import NOISY_OVERRIDE_PREFIXES, compose_config, split_override

USAGE = "python -m srlab.compare <sweep dir or run dirs...> [html=true] [output=<dir>]"
NOT_FOUND = object()  # OmegaConf.select's default: tells "absent" from a null value


@dataclass
class Run:
    """One run directory: what it was asked (config, overrides) and what it reached (summary)."""

    path: Path
    name: str
    config: DictConfig
    choices: dict[str, str]  # config groups: {"model": "resnet_sr", "experiment": "quick", ...}
    overrides: dict[str, str]  # .hydra/overrides.yaml that say what the run is, key -> value
    summary: dict[str, Any]
    problem: str = ""  # an unreadable file, said in the status instead of crashing

    @property
    def metrics(self) -> dict[str, float]:
        return self.summary.get("metrics") or {}

    @property
    def status(self) -> str:
        if self.problem:
            return self.problem
        if not self.summary:
            return "no summary"
        status = self.summary.get("status")
        if status == "failed":
            error = str(self.summary.get("error") or "").strip().splitlines()
            return f"failed: {error[0]}" if error else "failed"
        return "unfinished" if status == "running" else str(status or "unknown")

    def setting(self, key: str) -> str:
        """The value this run used for an override key: the group's choice (`model=bicubic`),
        else the composed config's value, else the override as written."""
        if key in self.choices:
            return str(self.choices[key])
        value = OmegaConf.select(
            self.config, key, default=NOT_FOUND, throw_on_resolution_failure=False
        )
        if value is NOT_FOUND:
            return self.overrides.get(key, "")
        if OmegaConf.is_config(value):
            value = OmegaConf.to_container(value, resolve=False)
        if value is None:
            return "null"  # as an override writes it
        return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass
class Comparison:
    """The table every output shows: one row per run, values as numbers where they are numbers."""

    runs: list[Run]
    labels: list[str]  # run name and what differs, for legends and crops: `0 (n_resblocks=1)`
    columns: list[str]
    rows: list[list[Any]]
    val_sets: list[str]
    files: dict[str, Path] = field(default_factory=dict)


# ---------------------------------------------------------------- finding and reading runs


def is_run_dir(path: Path) -> bool:
    return (path / ".hydra").is_dir() or (path / "summary.json").is_file()


def natural_key(path: Path) -> list[Any]:
    """Multirun jobs 0, 1, ..., 10 in number order, not 0, 1, 10, 2."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def find_runs(paths: Sequence[Path]) -> list[Path]:
    """Run directories: each path itself, or every run found below it (a sweep, a folder of
    sweeps); a run's own subfolders are not searched."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise SRLabError(
                f"{path}: no such directory; pass a sweep directory "
                f"(logs/train/multiruns/<time>) or run directories: {USAGE}"
            )
        if is_run_dir(path):
            found.append(path)
            continue
        below = []
        for folder, subfolders, _ in os.walk(path):
            subfolders[:] = [name for name in subfolders if not name.startswith(".")]
            if is_run_dir(Path(folder)):
                below.append(Path(folder))
                subfolders.clear()
        if not below:
            raise SRLabError(
                f"{path}: no run directories below it (folders with .hydra/ or summary.json); "
                f"pass a sweep directory (logs/train/multiruns/<time>) or run directories"
            )
        found += sorted(below, key=natural_key)
    return list(dict.fromkeys(path.resolve() for path in found))


def run_names(paths: Sequence[Path]) -> list[str]:
    """Directory names (`3` in a multirun), with as many parent folders as tell them apart."""
    for depth in range(1, max(len(path.parts) for path in paths) + 1):
        names = ["/".join(path.parts[-depth:]) for path in paths]
        if len(set(names)) == len(names):
            return names
    return [str(path) for path in paths]


def parse_overrides(items: Sequence[Any]) -> dict[str, str]:
    """`model.n_resblocks=8` -> {"model.n_resblocks": "8"}, leaving out where-it-writes keys."""
    overrides = {}
    for item in items:
        key, value = split_override(item)
        if key and not key.startswith(NOISY_OVERRIDE_PREFIXES):
            overrides[key] = "" if value is None else value
    return overrides


def load_run(path: Path, name: str) -> Run:
    """Read what there is; a missing or unreadable file is said in the run's status."""
    hydra_dir = path / ".hydra"
    problems = []

    def load(file: Path, default: Any) -> Any:
        if not file.is_file():
            return default
        try:
            return OmegaConf.load(file)
        except Exception as error:  # a hand-edited or truncated file must not stop the table
            problems.append(f"unreadable {file.relative_to(path)}: {type(error).__name__}")
            return default

    config = load(hydra_dir / "config.yaml", None) or OmegaConf.create()
    hydra = load(hydra_dir / "hydra.yaml", None)
    choices = OmegaConf.select(hydra, "hydra.runtime.choices", default=None) if hydra else None
    overrides = load(hydra_dir / "overrides.yaml", [])
    try:
        summary = read_summary(path / "summary.json")
    except (OSError, ValueError) as error:
        problems.append(f"unreadable summary.json: {type(error).__name__}")
        summary = {}
    return Run(
        path=path,
        name=name,
        config=config,
        choices=OmegaConf.to_container(choices) if choices else {},
        overrides=parse_overrides(overrides or []),
        summary=summary if isinstance(summary, dict) else {},
        problem="; ".join(problems),
    )


# ---------------------------------------------------------------- the table


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
    """Short key -> each run's value, for the override keys whose values differ between runs."""
    keys = list(dict.fromkeys(key for run in runs for key in run.overrides))
    values = {key: [run.setting(key) for run in runs] for key in keys}
    differing = {key: column for key, column in values.items() if len(set(column)) > 1}
    return dict(zip(short_names(list(differing)), differing.values(), strict=True))


def validation_sets(runs: Sequence[Run]) -> list[str]:
    """`Set5` for `val/Set5/psnr`, in the order the runs report them."""
    keys = [key for run in runs for key in run.metrics]
    return list(
        dict.fromkeys(key.split("/")[1] for key in keys if re.fullmatch(r"val/[^/]+/psnr", key))
    )


def build_comparison(runs: list[Run]) -> Comparison:
    settings = differing_settings(runs)
    val_sets = validation_sets(runs)
    metrics = [f"val/{name}/{metric}" for name in val_sets for metric in ("psnr", "ssim")]
    columns = ["run", *settings, "params", "steps", "wall_s", *metrics, "status"]
    rows = []
    for index, run in enumerate(runs):
        rows.append(
            [
                run.name,
                *(column[index] for column in settings.values()),
                run.summary.get("params"),
                run.summary.get("steps"),
                run.summary.get("wall_s"),
                *(run.metrics.get(metric) for metric in metrics),
                run.status,
            ]
        )
    labels = []
    for index, run in enumerate(runs):
        what = ", ".join(
            f"{key}={column[index]}" for key, column in settings.items() if column[index]
        )
        labels.append(f"{run.name} ({what})" if what else run.name)
    return Comparison(runs, labels, columns, rows, val_sets)


def format_value(column: str, value: Any) -> str:
    """How a value reads in a table: PSNR 2 decimals, SSIM 4, seconds 1; blank when missing."""
    if value is None:
        return ""
    if isinstance(value, float):
        digits = 4 if column.endswith("ssim") else 1 if column == "wall_s" else 2
        return f"{value:.{digits}f}"
    return str(value)


def is_numeric(column: int, rows: Sequence[Sequence[Any]]) -> bool:
    """A column sorts and aligns as numbers when every value it has is a number or reads as one."""
    values = [row[column] for row in rows if row[column] not in (None, "")]
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
            scored = [(row[column], index) for index, row in enumerate(comparison.rows)]
            scored = [(value, index) for value, index in scored if value is not None]
            if scored:
                best[column] = max(scored)[1]
    return best


def markdown_table(comparison: Comparison) -> str:
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
    return "\n".join(lines) + "\n"


def csv_table(comparison: Comparison) -> str:
    """Full-precision numbers: the CSV is for further analysis, not for reading."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(comparison.columns)
    writer.writerows([["" if value is None else value for value in row] for row in comparison.rows])
    return buffer.getvalue()


def print_table(comparison: Comparison, title: str) -> None:
    table = Table(title=title)
    numeric = [is_numeric(column, comparison.rows) for column in range(len(comparison.columns))]
    for name, right in zip(comparison.columns, numeric, strict=True):
        table.add_column(name, justify="right" if right else "left", overflow="fold")
    best = best_rows(comparison)
    for index, row in enumerate(comparison.rows):
        cells = []
        for column, (name, value) in enumerate(zip(comparison.columns, row, strict=True)):
            text = format_value(name, value).replace("[", "\\[")
            if best.get(column) == index:
                text = f"[bold]{text}[/]"
            elif name == "status" and value != "completed":
                text = f"[{'red' if value.startswith('failed') else 'yellow'}]{text}[/]"
            cells.append(text)
        table.add_row(*cells)
    Console().print(table)


# ---------------------------------------------------------------- plots and crops


def figure_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def bicubic_psnr(runs: Sequence[Run], val_set: str) -> float | None:
    """The bicubic baseline of a validation set (the same for every run of a scale)."""
    values = [run.metrics.get(f"val/{val_set}/bicubic_psnr") for run in runs]
    return next((value for value in values if value is not None), None)


def plot_comparison(comparison: Comparison) -> bytes:
    """Two panels: best PSNR against parameters and against training wall time, points labelled."""
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    plotted = False
    for x_key, axis, x_label in (
        ("params", axes[0], "parameters"),
        ("wall_s", axes[1], "training wall time (s)"),
    ):
        for val_set, marker in zip(comparison.val_sets, "osD^v<>p*", strict=False):
            points = [
                (run.summary.get(x_key), run.metrics.get(f"val/{val_set}/psnr"), run.name)
                for run in comparison.runs
            ]
            points = [point for point in points if None not in point[:2]]
            if not points:
                continue
            plotted = True
            xs, ys, _ = zip(*points, strict=True)
            axis.scatter(xs, ys, marker=marker, label=val_set, zorder=3)
            middle = (min(xs) + max(xs)) / 2
            for x, y, name in points:  # by run name: the table and the curves' legend say more
                left = x > middle  # labels point inwards, so that none leaves the figure
                axis.annotate(
                    name,
                    (x, y),
                    textcoords="offset points",
                    xytext=(-4 if left else 4, 4),
                    ha="right" if left else "left",
                    fontsize=7,
                )
            baseline = bicubic_psnr(comparison.runs, val_set)
            if baseline is not None:
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
        xs = [run.summary.get(x_key) for run in comparison.runs if run.summary.get(x_key)]
        if x_key == "params" and xs and max(xs) > 20 * min(xs):
            axis.set_xscale("log")
        axis.set_xlabel(x_label)
        axis.margins(x=0.1)
        axis.grid(alpha=0.3)
    axes[0].set_ylabel("best validation PSNR (dB)")
    if plotted and len(comparison.val_sets) > 1:
        axes[0].legend(fontsize=8)
    if not plotted:
        figure.suptitle("no run has reached a validation yet")
    return figure_png(figure)


def plot_learning_curves(comparison: Comparison) -> bytes:
    """Validation PSNR against step, one panel per validation set, one line per run."""
    val_sets = comparison.val_sets or ["-"]
    figure = Figure(figsize=(max(8.0, 5.5 * len(val_sets)), 4.2), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(val_sets), squeeze=False)[0])
    for axis, val_set in zip(axes, val_sets, strict=True):
        key = f"val/{val_set}/psnr"
        for run, label in zip(comparison.runs, comparison.labels, strict=True):
            history = [h for h in run.summary.get("history") or [] if h.get(key) is not None]
            if history:
                steps = [h["step"] for h in history]
                axis.plot(steps, [h[key] for h in history], marker=".", label=label)
        baseline = bicubic_psnr(comparison.runs, val_set)
        if baseline is not None:
            axis.axhline(baseline, color="gray", linestyle="--", linewidth=1, label="bicubic")
        axis.set_title(val_set)
        axis.set_xlabel("step")
        axis.set_ylabel("validation PSNR (dB)")
        axis.grid(alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7)
    return figure_png(figure)


def image_names(run: Run) -> list[str]:
    folder = run.path / "images"
    return sorted(path.stem for path in folder.glob("*.png")) if folder.is_dir() else []


def comparison_crops(comparison: Comparison, image: str | None) -> tuple[str, list[Crop]]:
    """HR, bicubic and each run's SR of one validation image, at the same place.

    The runs' images/<set>_<image>.png are strips of 4 equal panels LR | bicubic | SR | HR, centre
    crops of the same size from the same validation image, so panel k of every run shows the
    same pixels. Each SR crop is labelled with its run's PSNR on the set and on this crop.
    """
    runs = [run for run in comparison.runs if image_names(run)]
    if not runs:
        return "", []
    shared = sorted(set.intersection(*(set(image_names(run)) for run in runs)))
    if image is None:
        if not shared:
            return "", []
        image = shared[0]
    elif image not in shared:
        available = ", ".join(shared) or "none shared by every run"
        raise SRLabError(
            f"image={image}: not in every run's images/ folder; choose one of: {available}"
        )
    # images/<set>_<image>.png; a set's name may hold "_" too
    named = [name for name in comparison.val_sets if image.startswith(f"{name}_")]
    val_set = max(named, key=len) if named else image.split("_", 1)[0]
    strips = [(run, read_strip(run.path / "images" / f"{image}.png")) for run in runs]
    strips = [(run, strip) for run, strip in strips if strip is not None]
    if not strips:
        return image, []
    _, bicubic, _, hr = np.split(strips[0][1], 4, axis=1)
    border = int(OmegaConf.select(strips[0][0].config, "scale", default=0) or 0)
    set_psnr = bicubic_psnr(runs, val_set)
    crops = [
        Crop("HR", "ground truth", hr),
        Crop("bicubic", caption(bicubic, hr, border, set_psnr, val_set), bicubic),
    ]
    for run, strip in strips:
        sr = np.split(strip, 4, axis=1)[2]
        if sr.shape != hr.shape:
            continue  # saved with another crop size: not the same place
        set_psnr = run.metrics.get(f"val/{val_set}/psnr")
        label = comparison.labels[comparison.runs.index(run)]
        crops.append(Crop(label, caption(sr, hr, border, set_psnr, val_set), sr))
    return image, crops


def read_strip(path: Path) -> np.ndarray | None:
    """A comparison strip, or None when it is unreadable or not 4 equal panels: one run's broken
    image leaves it out of the crops, not the report."""
    try:
        strip = read_image(path)
    except SRLabError:
        return None
    return strip if strip.shape[1] % 4 == 0 else None


def caption(
    crop: np.ndarray, hr: np.ndarray, border: int, set_psnr: float | None, val_set: str
) -> str:
    """`29.47 dB on Set5 · 27.31 dB on this crop` (Y-channel PSNR, the protocol's border)."""

    border = min(border, (min(hr.shape[:2]) - 1) // 2)
    on_crop = float(
        psnr(as_batch(crop), as_batch(hr), border=border, y_channel=hr.shape[2] == 3)[0]
    )
    parts = [f"{set_psnr:.2f} dB on {val_set}"] if set_psnr is not None else []
    return " · ".join([*parts, f"{on_crop:.2f} dB on this crop"])


# ---------------------------------------------------------------- writing


def compare_runs(
    paths: Sequence[Path], output: Path | None = None, html: bool = False, image: str | None = None
) -> Comparison:
    """Find the runs under `paths`, write comparison.{md,csv,png} (and report.html) to `output`
    (default: the one sweep directory given, else the first run's parent) and print the table."""
    if not paths:
        raise SRLabError(f"no runs given; usage: {USAGE}")
    run_dirs = find_runs(paths)
    if output is None:
        output = paths[0] if len(paths) == 1 and not is_run_dir(paths[0]) else run_dirs[0].parent
    runs = [load_run(path, name) for path, name in zip(run_dirs, run_names(run_dirs), strict=True)]
    comparison = build_comparison(runs)
    title = f"{len(runs)} runs of {paths[0] if len(paths) == 1 else f'{len(paths)} folders'}"
    plot = plot_comparison(comparison)
    files = {
        "comparison.md": f"# Comparison: {title}\n\n{markdown_table(comparison)}".encode(),
        "comparison.csv": csv_table(comparison).encode(),
        "comparison.png": plot,
    }
    if html:
        files["report.html"] = html_report(comparison, title, plot, image).encode()
    for name, data in files.items():
        write_atomic(output / name, data)
        comparison.files[name] = output / name
    print_table(comparison, title)
    Console().print(
        f"wrote {', '.join(str(path) for path in comparison.files.values())}", highlight=False
    )
    return comparison


def html_report(comparison: Comparison, title: str, plot: bytes, image: str | None) -> str:
    image_name, crops = comparison_crops(comparison, image)
    columns = comparison.columns
    return build_report(
        title=title,
        columns=columns,
        rows=[
            [(value, format_value(name, value)) for name, value in zip(columns, row, strict=True)]
            for row in comparison.rows
        ],
        numeric=[is_numeric(column, comparison.rows) for column in range(len(columns))],
        best=best_rows(comparison),
        plots={
            "PSNR against parameters and training time": plot,
            "Learning curves": plot_learning_curves(comparison),
        },
        crops_title=f"{image_name}, centre crop, from each run's last validation",
        crops=crops,
        run_details=[
            (label, str(run.path), [f"{key}={value}" for key, value in run.overrides.items()])
            for run, label in zip(comparison.runs, comparison.labels, strict=True)
        ],
    )


def compare(cfg: DictConfig) -> Comparison:
    return compare_runs(
        paths=[Path(str(path)) for path in cfg.runs],
        output=Path(str(cfg.output)) if cfg.get("output") else None,
        html=bool(cfg.html),
        image=cfg.get("image"),
    )


def load_config(args: Sequence[str]) -> DictConfig:
    """conf/compare.yaml composed with the `key=value` arguments; the other arguments (and any
    naming an existing path) are appended to `runs`."""
    paths = [arg for arg in args if "=" not in arg or os.path.exists(arg)]
    overrides = [arg for arg in args if arg not in paths]
    try:
        cfg = compose_config("compare", overrides)
    except HydraException as error:
        raise SRLabError(f"{error}\nusage: {USAGE}") from error
    cfg.runs = [*cfg.runs, *paths]
    return cfg


def main(argv: Sequence[str] | None = None) -> Comparison | None:
    args = list(sys.argv[1:] if argv is None else argv)
    if any(arg in ("-h", "--help") for arg in args):
        print(__doc__)
        return None
    return run_entry_point(lambda arguments: compare(load_config(arguments)), args)


if __name__ == "__main__":
    main()
