"""summary.json: what a run reached (best validation metrics, steps, time), written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from srlab.utils.errors import SRLabError
from srlab.utils.files import write_json
from srlab.utils.tables import print_table


def read_summary(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def first_exception(error: BaseException) -> BaseException:
    """The exception that started it: a failure inside a DataLoader worker or a callback often
    surfaces as a second error raised while handling the first."""
    while not isinstance(error, SRLabError) and (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__
    return error


def mark_failed(path: str | Path, error: BaseException, wall_s: float | None = None) -> None:
    """Keep what the run reached, and say why it stopped."""
    summary = {"status": "failed", "metrics": {}, "params": None, "steps": 0, "wall_s": wall_s}
    summary.update(read_summary(path))
    first = first_exception(error)
    summary.update(status="failed", error=f"{type(first).__name__}: {first}")
    write_json(path, summary)


def mark_interrupted(path: str | Path, signal_name: str) -> None:
    """A signal stopped the run before its first step saved anything: keep what it had."""
    summary = {"metrics": {}, "params": None, "steps": 0, **read_summary(path)}
    summary.update(status="interrupted", signal=signal_name)
    write_json(path, summary)


def print_run_table(summary: dict[str, Any], scale: int, run_dir: Path | None = None) -> None:
    """Per validation set: bicubic and model PSNR/SSIM at the best validation."""
    metrics = summary.get("metrics", {})
    sets = sorted({key.split("/")[1] for key in metrics if key.count("/") == 2})
    rows = []
    for name in sets:
        for method, prefix in (("bicubic", "bicubic_"), ("model", "")):
            psnr = metrics.get(f"val/{name}/{prefix}psnr")
            ssim = metrics.get(f"val/{name}/{prefix}ssim")
            if psnr is not None:
                rows.append((name, method, f"{psnr:.2f}", f"{ssim:.4f}"))
    title = f"x{scale} results ({summary.get('steps')} steps, {summary.get('wall_s')} s)"
    best = f"best: step {summary['best_step']}" if summary.get("best_step") is not None else ""
    caption = " · ".join(part for part in (best, str(run_dir or "")) if part)
    print_table(title, ("set", "method", "PSNR (dB)", "SSIM"), rows, caption=caption or None)
