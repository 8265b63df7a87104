"""The leaderboard of `srlab.eval` over several models: one paper-style table (rows = models,
columns = set x metric, then parameters, MACs and latency), the paper's value beside ours where
it is known, and PSNR against MACs and against latency with the Pareto front marked.

Written as leaderboard.md, leaderboard.csv and leaderboard.html (the plots inside).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from matplotlib.figure import Figure

from srlab.reporting.html import data_uri
from srlab.reporting.plots import figure_png, pareto_front
from srlab.utils.files import write_atomic

AXES = (("macs", "MACs (G)", 1e-9), ("latency_ms", "latency (ms)", 1.0))


@dataclass
class Entry:
    """One model's row: its scores per set, its cost, the paper's scores, or why it failed."""

    name: str
    path: str
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    cost: dict[str, Any] = field(default_factory=dict)
    paper: dict[str, dict[str, float]] = field(default_factory=dict)
    error: str | None = None


def read_papers(path: str | Path | None) -> dict[str, dict[int, dict[str, dict[str, float]]]]:
    """file name -> scale -> set -> {"psnr", "ssim"}: what the papers report for a published
    file (experiments/published/papers.yaml); empty when there is no such file."""
    if not path or not Path(path).is_file():
        return {}
    data = yaml.safe_load(Path(path).read_text()) or {}
    return {
        name: {int(scale): sets for scale, sets in (entry.get("scales") or {}).items()}
        for name, entry in data.items()
    }


def metric_cell(entry: Entry, set_name: str, metric: str) -> str:
    ours = entry.scores.get(set_name, {}).get(metric)
    if ours is None:
        return ""
    digits = 2 if metric == "psnr" else 4
    text = f"{ours:.{digits}f}"
    paper = entry.paper.get(set_name, {}).get(metric)
    if paper is not None:
        text += f" ({paper:.{digits}f}, {ours - paper:+.{digits}f})"
    return text


def cost_cells(entry: Entry) -> list[str]:
    cost = entry.cost
    return [
        f"{cost['params']:,}" if "params" in cost else "",
        f"{cost['macs'] / 1e9:.2f}" if "macs" in cost else "",
        f"{cost['latency_ms']:.1f}" if cost.get("latency_ms") is not None else "",
    ]


def header(set_names: Sequence[str]) -> list[str]:
    metrics = [f"{name} {metric}" for name in set_names for metric in ("PSNR", "SSIM")]
    return ["model", *metrics, "params", "MACs (G)", "latency (ms)"]


def rows(entries: Sequence[Entry], set_names: Sequence[str]) -> list[list[str]]:
    table = []
    for entry in entries:
        if entry.error:
            table.append(
                [f"{entry.name} (failed: {entry.error})"] + [""] * (2 * len(set_names) + 3)
            )
            continue
        metrics = [metric_cell(entry, s, m) for s in set_names for m in ("psnr", "ssim")]
        table.append([entry.name, *metrics, *cost_cells(entry)])
    return table


def markdown(entries: Sequence[Entry], set_names: Sequence[str], caption: str) -> str:
    head = header(set_names)
    lines = [
        f"{caption}\n",
        "| " + " | ".join(head) + " |",
        "|" + " --- |" * len(head),
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows(entries, set_names)]
    return "\n".join(lines) + "\n"


def csv_text(entries: Sequence[Entry], set_names: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        ["model", "path", "error"]
        + [
            f"{s}_{m}{suffix}"
            for s in set_names
            for m in ("psnr", "ssim")
            for suffix in ("", "_paper")
        ]
        + ["params", "macs", "latency_ms", "threads", "peak_memory_mb", "input"]
    )
    for entry in entries:
        metrics = [
            value
            for s in set_names
            for m in ("psnr", "ssim")
            for value in (entry.scores.get(s, {}).get(m), entry.paper.get(s, {}).get(m))
        ]
        cost = entry.cost
        writer.writerow(
            [entry.name, entry.path, entry.error or "", *metrics]
            + [
                cost.get(key)
                for key in ("params", "macs", "latency_ms", "threads", "peak_memory_mb")
            ]
            + ["x".join(map(str, cost.get("input", [])))]
        )
    return buffer.getvalue()


def tradeoff_figure(entries: Sequence[Entry], set_name: str) -> Figure:
    """PSNR on `set_name` against MACs and against latency; the Pareto front joined."""
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    for axis, (key, label, unit) in zip(figure.subplots(1, 2), AXES, strict=True):
        placed = [
            (e.cost[key] * unit, e.scores[set_name]["psnr"], e.name)
            for e in entries
            if not e.error and e.cost.get(key) is not None and set_name in e.scores
        ]
        for x, y, name in placed:
            axis.scatter(x, y, color="tab:blue")
            axis.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
        front = [placed[i] for i in pareto_front([(x, y) for x, y, _ in placed])]
        if front:
            axis.plot(
                [p[0] for p in front],
                [p[1] for p in front],
                "--",
                color="tab:red",
                label="Pareto front",
            )
            axis.legend(loc="lower right")
        axis.set_xscale("log")
        axis.set_xlabel(label)
        axis.set_ylabel(f"{set_name} PSNR (dB)")
        axis.grid(alpha=0.3)
    return figure


def html_page(entries: Sequence[Entry], set_names: Sequence[str], caption: str) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header(set_names))
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
        for row in rows(entries, set_names)
    )
    plots = "".join(
        f"<h2>{html.escape(s)}: PSNR against cost</h2>"
        f'<img alt="PSNR against MACs and latency on {html.escape(s)}" '
        f'src="{data_uri(figure_png(tradeoff_figure(entries, s)))}">'
        for s in set_names
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>srlab leaderboard</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}"
        "td:first-child{text-align:left}</style></head><body>"
        f"<h1>Leaderboard</h1><p>{html.escape(caption)}</p>"
        f"<table><tr>{head}</tr>{body}</table>{plots}</body></html>"
    )


def write_leaderboard(
    folder: str | Path, entries: Sequence[Entry], set_names: Sequence[str], caption: str
) -> list[Path]:
    folder = Path(folder)
    written = []
    for name, text in (
        ("leaderboard.md", markdown(entries, set_names, caption)),
        ("leaderboard.csv", csv_text(entries, set_names)),
        ("leaderboard.html", html_page(entries, set_names, caption)),
    ):
        write_atomic(folder / name, text.encode())
        written.append(folder / name)
    return written
