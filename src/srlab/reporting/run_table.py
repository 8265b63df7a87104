"""Tables printed at the end of runs: what the user looks at in the terminal."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_run_table(summary: dict[str, Any], scale: int) -> None:
    """Per validation set: bicubic and model PSNR/SSIM at the best validation."""
    metrics = summary.get("metrics", {})
    sets = sorted({key.split("/")[1] for key in metrics if key.count("/") == 2})
    table = Table(
        title=f"x{scale} results ({summary.get('steps')} steps, {summary.get('wall_s')} s)"
    )
    for column in ("set", "method", "PSNR (dB)", "SSIM"):
        table.add_column(column, justify="left" if column in ("set", "method") else "right")
    for name in sets:
        for method, prefix in (("bicubic", "bicubic_"), ("model", "")):
            psnr = metrics.get(f"val/{name}/{prefix}psnr")
            ssim = metrics.get(f"val/{name}/{prefix}ssim")
            if psnr is not None:
                table.add_row(name, method, f"{psnr:.2f}", f"{ssim:.4f}")
    Console().print(table)
