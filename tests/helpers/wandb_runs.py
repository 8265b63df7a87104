"""Offline W&B runs read back with W&B's own reader (`wandb leet inspect`), as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

WANDB = Path(sys.executable).parent / "wandb"


def inspect(run_dir: Path, summary: bool = True) -> dict | list[dict]:
    """An offline run's summary (a dict), or with summary=False all its records (a list)."""
    command = [
        str(WANDB),
        "leet",
        "inspect",
        "--json",
        *(["--summary"] if summary else []),
        str(run_dir),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout
    return json.loads(output) if summary else [json.loads(line) for line in output.splitlines()]


def wandb_runs(wandb_dir: Path) -> dict[str, Path]:
    """Offline W&B run directories under `wandb_dir`, by run name."""
    return {inspect(run_dir)["name"]: run_dir for run_dir in wandb_dir.rglob("offline-run-*")}
