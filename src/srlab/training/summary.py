"""summary.json: what a run reached (best validation metrics, steps, time), written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from srlab.utils.files import write_atomic


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, default=str).encode())


def read_summary(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def mark_failed(path: str | Path, error: BaseException, wall_s: float | None = None) -> None:
    """Keep what the run reached, and say why it stopped."""
    summary = {"status": "failed", "metrics": {}, "params": None, "steps": 0, "wall_s": wall_s}
    summary.update(read_summary(path))
    summary.update(status="failed", error=f"{type(error).__name__}: {error}")
    write_json(path, summary)
