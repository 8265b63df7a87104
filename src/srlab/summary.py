"""summary.json: what a run reached (best validation metrics, steps, time), written atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    """Write JSON so that a reader or a crash never sees half a file (tmp + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2, default=str)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_summary(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    return json.loads(path.read_text()) if path.exists() else {}


def mark_failed(path: str | Path, error: BaseException, wall_s: float | None = None) -> None:
    """Keep what the run reached, and say why it stopped."""
    summary = {"status": "failed", "metrics": {}, "params": None, "steps": 0, "wall_s": wall_s}
    summary.update(read_summary(path))
    summary.update(status="failed", error=f"{type(error).__name__}: {error}")
    write_json(path, summary)
