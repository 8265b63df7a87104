"""The one table printer: every command's closing table goes through `print_table`."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

# Piped output (CI logs, `| tee`) has no terminal width; rich would wrap at 80 columns.
PIPED_WIDTH = 200


def console(stderr: bool = False) -> Console:
    """A console as wide as the terminal, or PIPED_WIDTH when output is not a terminal."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else max(PIPED_WIDTH, shutil.get_terminal_size().columns)
    return Console(stderr=stderr, width=width, soft_wrap=stderr)


def is_number(text: str) -> bool:
    try:
        float(text.split()[0].lstrip("x").rstrip("%"))
    except (ValueError, IndexError):
        return False
    return True


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    caption: str | None = None,
    footer: Sequence[Sequence[str]] = (),
) -> None:
    """Columns whose cells are all numbers are right-aligned; `footer` rows (a mean) go under a
    rule, in bold. Cells are rich markup (escape user text with rich.markup.escape)."""
    table = Table(title=title)
    for index, name in enumerate(columns):
        cells = [row[index] for row in rows if row[index]]
        numeric = bool(cells) and all(is_number(Text.from_markup(cell).plain) for cell in cells)
        table.add_column(name, justify="right" if numeric else "left", overflow="fold")
    for row in rows:
        table.add_row(*row)
    if footer:
        table.add_section()
    for row in footer:
        table.add_row(*row, style="bold")
    out = console()
    out.print(table)
    if caption:  # under the table, not wrapped to its width (paths are long)
        out.print(caption, style="dim", highlight=False, soft_wrap=True)
