"""report.html: a sweep's comparison as ONE self-contained file (inline CSS and JS, images as
base64 data URIs, a Content-Security-Policy that forbids any network request), readable offline
on a cluster, a laptop or a CI artifact: the table, its notes, the plots, the crop strip and each
run's directory and overrides."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

import numpy as np
from PIL import Image

from srlab.reporting.crops import Crop, comparison_crops
from srlab.reporting.plots import figure_png, learning_curves_figure
from srlab.reporting.table import (
    Comparison,
    best_rows,
    format_value,
    is_numeric,
    shown_columns,
    sort_value,
)
from srlab.training.summary import RunStatus

# Only inline styles, inline scripts and data: images may load: a report that asked the network
# for anything would show a console error instead of silently depending on it.
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 1200px;
       padding: 0 1rem; color: #1d1d1f; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; width: 100%; } .scroll { overflow-x: auto; }
th, td { padding: .3rem .6rem; border-bottom: 1px solid #ddd; white-space: nowrap; }
th { background: #f3f3f5; cursor: pointer; user-select: none; text-align: left; }
th:hover { background: #e6e6ea; }
th.number, td.number { text-align: right; font-variant-numeric: tabular-nums; }
th[aria-sort=ascending]::after { content: " \\25B2"; }
th[aria-sort=descending]::after { content: " \\25BC"; }
td.best { font-weight: 700; }
td.failed { color: #b00020; } td.unfinished { color: #a05a00; }
td.status { white-space: normal; }
img.plot { max-width: 100%; }
.crops { display: flex; flex-wrap: wrap; gap: 1rem; }
.crops figure { margin: 0; max-width: 340px; }
.crops img { image-rendering: pixelated; border: 1px solid #ccc; }
.crops figcaption { font-size: 12px; } .crops figcaption b { display: block; }
.muted { color: #666; } code { font-size: 12px; }
"""

# Click a header (or Enter on it) to sort by it, again to reverse; numbers sort as numbers, blanks
# stay last.
SCRIPT = """
for (const table of document.querySelectorAll("table.sortable")) {
  const headers = Array.from(table.tHead.rows[0].cells);
  headers.forEach(header => header.addEventListener("keydown", event => {
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); header.click(); }
  }));
  headers.forEach((header, column) => header.addEventListener("click", () => {
    const ascending = header.getAttribute("aria-sort") !== "ascending";
    headers.forEach(h => h.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const numeric = header.classList.contains("number");
    const key = row => row.cells[column].dataset.value;
    const rows = Array.from(table.tBodies[0].rows);
    rows.sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === "" || y === "") return (x === "") - (y === "");
      const order = numeric ? Number(x) - Number(y)
                            : x.localeCompare(y, undefined, {numeric: true});
      return ascending ? order : -order;
    });
    table.tBodies[0].append(...rows);
  }));
}
"""


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if image.shape[2] == 1 else image).save(buffer, format="PNG")
    return buffer.getvalue()


def table_html(
    columns: Sequence[str],
    rows: Sequence[Sequence[tuple[Any, str]]],
    numeric: Sequence[bool],
    best: dict[int, int],
    table_id: str = "comparison",
) -> str:
    """Each cell holds (value, text): the text shows, the full-precision value sorts (and a
    shortened path shows whole on hover)."""
    head = "".join(
        f'<th scope="col" class="{"number" if right else "text"}" tabindex="0" '
        f'title="click to sort">{escape(name)}</th>'
        for name, right in zip(columns, numeric, strict=True)
    )
    body = []
    for index, row in enumerate(rows):
        cells = []
        for column, ((value, text), name) in enumerate(zip(row, columns, strict=True)):
            classes = ["number"] if numeric[column] else []
            if best.get(column) == index:
                classes.append("best")
            if name == "status":
                classes.append("status")
                if text.startswith(RunStatus.FAILED):
                    classes.append("failed")
                elif text != RunStatus.COMPLETED:
                    classes.append("unfinished")
            sort_value = "" if value is None else str(value)
            hover = f' title="{escape(value)}"' if isinstance(value, str) and value != text else ""
            cells.append(
                f'<td class="{" ".join(classes)}" data-value="{escape(sort_value)}"{hover}>'
                f"{escape(text)}</td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table class="sortable" id="{table_id}"><thead><tr>{head}</tr>'
        f"</thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def crops_html(title: str, crops: Sequence[Crop], zoom: int = 2) -> str:
    if not crops:
        return '<p class="muted">No comparison images (images/&lt;set&gt;_&lt;image&gt;.png).</p>'
    figures = "".join(
        f'<figure><img src="{data_uri(png_bytes(crop.image))}" alt="{escape(crop.label)}" '
        f'width="{zoom * crop.image.shape[1]}" height="{zoom * crop.image.shape[0]}">'
        f"<figcaption><b>{escape(crop.label)}</b>{escape(crop.caption)}</figcaption></figure>"
        for crop in crops
    )
    return (
        f'<p class="muted">{escape(title)}; shown at {zoom}x.</p><div class="crops">{figures}</div>'
    )


def build_report(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[tuple[Any, str]]],
    numeric: Sequence[bool],
    best: dict[int, int],
    plots: dict[str, bytes],
    crops_title: str,
    crops: Sequence[Crop],
    run_details: Sequence[tuple[str, str, Sequence[str]]],
    notes: Sequence[str] = (),
    folded: str = "",
) -> str:
    """The whole page as one string. `plots` maps a heading to a PNG; `run_details` lists each
    run's label, directory and overrides (to reproduce it); `notes` go under the table, then
    `folded` (HTML under a fold: the settings the table leaves out)."""
    plot_sections = "".join(
        f"<h2>{escape(heading)}</h2>"
        f'<img class="plot" src="{data_uri(png)}" alt="{escape(heading)}">'
        for heading, png in plots.items()
    )
    details = "".join(
        f"<li><b>{escape(label)}</b> <code>{escape(path)}</code><br>"
        f"<code>{escape(' '.join(overrides)) or '(no overrides)'}</code></li>"
        for label, path, overrides in run_details
    )
    generated = datetime.now().strftime("%Y-%m-%d %H:%M")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>srlab: {escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>srlab comparison: {escape(title)}</h1>
<p class="muted">Best validation metrics of each run; click a column header to sort.
Generated by <code>python -m srlab.compare</code> on {generated}.</p>
{table_html(columns, rows, numeric, best)}
{"".join(f"<p>{escape(note)}</p>" for note in notes)}
{folded}
{plot_sections}
<h2>The same crop, side by side</h2>
{crops_html(crops_title, crops)}
<h2>Runs</h2>
<details><summary>Directories and overrides</summary><ul>{details}</ul></details>
<script>{SCRIPT}</script>
</body>
</html>
"""


def html_report(comparison: Comparison, title: str, plot: bytes, image: str | None) -> str:
    """The page of a comparison; `plot` is comparison.png, `image` the crop strip's image."""
    image_name, crops = comparison_crops(comparison, image)
    shown = shown_columns(comparison)
    best = {shown.index(column): row for column, row in best_rows(comparison).items()}
    return build_report(
        title=title,
        columns=[comparison.columns[column] for column in shown],
        rows=table_cells(comparison, shown),
        numeric=[is_numeric(column, comparison.rows) for column in shown],
        best=best,
        folded=settings_fold(comparison, shown),
        plots={
            "PSNR against parameters and training time": plot,
            "Learning curves": figure_png(learning_curves_figure(comparison)),
        },
        crops_title=f"{image_name}, centre crop, from each run's last validation",
        crops=crops,
        run_details=[
            (label, str(run.path), [f"{key}={value}" for key, value in run.overrides.items()])
            for run, label in zip(comparison.runs, comparison.labels, strict=True)
        ],
        notes=comparison.notes,
    )


def table_cells(comparison: Comparison, columns: Sequence[int]) -> list[list[tuple[Any, str]]]:
    """(value, text) of each row's `columns`."""
    names = comparison.columns
    return [
        [(sort_value(row[column]), format_value(names[column], row[column])) for column in columns]
        for row in comparison.rows
    ]


def settings_fold(comparison: Comparison, shown: Sequence[int]) -> str:
    """Every setting that differs, per run, under a fold: when the table leaves some out."""
    if len(shown) == len(comparison.columns):
        return ""
    first = len(comparison.columns) - len(comparison.setting_columns)  # the last columns
    columns = [0, *range(first, len(comparison.columns))]
    table = table_html(
        [comparison.columns[column] for column in columns],
        table_cells(comparison, columns),
        [is_numeric(column, comparison.rows) for column in columns],
        {},
        table_id="settings",
    )
    count = len(comparison.setting_columns)
    return f"<details><summary>All {count} settings that differ</summary>{table}</details>"
