"""A sweep prints its directory at the start and at the end. A sweep in which any job failed
exits non-zero, after the others ran, and names the failed jobs in its last lines (with the
first real error of each)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from srlab.training.summary import SUMMARY_FILE, RunStatus, RunSummary
from srlab.utils.tables import console


def failed_jobs(sweep_dir: Path) -> list[tuple[str, str]]:
    """(job directory, error) of every job whose summary.json says it failed."""
    failed = []
    for summary_path in sorted(sweep_dir.glob(f"*/{SUMMARY_FILE}")):
        try:
            summary = RunSummary.read(summary_path)
        except (OSError, ValueError):
            continue
        if summary is not None and summary.status == RunStatus.FAILED:
            failed.append((str(summary_path.parent), summary.error or ""))
    return failed


class SweepReport(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        console().print(f"sweep directory: {config.hydra.sweep.dir}", markup=False)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        jobs = len(list(sweep_dir.glob(f"*/{SUMMARY_FILE}")))
        compare = f"python -m srlab.compare {sweep_dir}"
        console().print(
            f"sweep: {jobs} job(s) in {sweep_dir}; side by side: {compare}",
            markup=False, highlight=False, soft_wrap=True,
        )  # fmt: skip
        failed = failed_jobs(sweep_dir)
        if not failed:
            return
        out = console(stderr=True)
        out.print(f"[bold red]{len(failed)} job(s) of the sweep failed:[/]", highlight=False)
        for job_dir, error in failed:
            out.print(f"  {job_dir}: {error.splitlines()[0] if error else 'failed'}", markup=False)
        sys.exit(1)
