"""`python -m srlab.compare <sweep dir or run dirs...> [html=true] [output=<dir>]`: the runs of a
sweep side by side, with no network: the overrides that differ, parameters, steps, wall time, best
PSNR/SSIM per validation set and status, written as comparison.md, comparison.csv and
comparison.png (PSNR against parameters and against training time), printed as a table, and
with html=true also as one self-contained report.html. Failed, unfinished and interrupted runs
are marked, never fatal.

Runs that differ only in `seed` are one setting: one row with each metric's mean ± standard
deviation and n, error bars in the plots, and under the table each setting's difference of mean
PSNR from the first setting's with its 95% Welch interval.

The command line: bare arguments are sweep or run directories (so is any argument naming an
existing path); `key=value` arguments override conf/compare.yaml, `runs=[dir1,dir2]` included.

The work is in srlab.reporting: runs (finding and reading runs), table (the rows, as Markdown,
CSV and terminal table), stats (means over seeds, the interval), plots, crops and html.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from srlab.reporting.html import html_report
from srlab.reporting.plots import figure_png, psnr_figure
from srlab.reporting.runs import is_run_dir, load_runs
from srlab.reporting.table import (
    Comparison,
    build_comparison,
    csv_table,
    markdown_table,
    print_comparison,
)
from srlab.utils.entry import compose_arguments, compose_entry_point
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_atomic
from srlab.utils.tables import console

USAGE = "python -m srlab.compare <sweep dir or run dirs...> [html=true] [output=<dir>]"
EXAMPLES = (
    "python -m srlab.compare logs/train/multiruns/<time>            # a sweep",
    "python -m srlab.compare logs/train/multiruns/<time> html=true  # and report.html",
    "python -m srlab.compare logs/train/runs/<time1> logs/train/runs/<time2> output=logs/compared",
)


def compare_runs(
    paths: Sequence[Path], output: Path | None = None, html: bool = False, image: str | None = None
) -> Comparison:
    """Find the runs under `paths`, write comparison.{md,csv,png} (and report.html) to `output`
    (default: the one sweep directory given, else the first run's parent) and print the table."""
    if not paths:
        raise SRLabError(f"no runs given; usage: {USAGE}")
    runs = load_runs(paths)
    if output is None:
        output = paths[0] if len(paths) == 1 and not is_run_dir(paths[0]) else runs[0].path.parent
    comparison = build_comparison(runs)
    title = f"{len(runs)} runs of {paths[0] if len(paths) == 1 else f'{len(paths)} folders'}"
    plot = figure_png(psnr_figure(comparison))
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
    print_comparison(comparison, title)
    console().print(
        f"wrote {', '.join(str(path) for path in comparison.files.values())}",
        highlight=False,
        soft_wrap=True,  # one line, whole paths, whatever the width
    )
    return comparison


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
    return compose_arguments("compare", args, USAGE, bare_arguments_to="runs")


# Not @hydra.main: its bare arguments are directories, which Hydra's command line does not take.
main = compose_entry_point("compare", compare, USAGE, __doc__, EXAMPLES, bare_arguments_to="runs")


if __name__ == "__main__":
    main()
