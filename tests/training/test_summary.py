"""summary.json, one schema: what the callback, a failure and a signal write, what the sweep and
the reports read, including the summaries of older and newer srlab versions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from srlab.reporting.runs import load_run
from srlab.training.summary import (
    RunStatus,
    RunSummary,
    mark_failed,
    mark_interrupted,
)
from srlab.training.sweep import failed_jobs

# As the first srlab wrote it: no best_step, no final_metrics.
FIRST_FORMAT = {
    "status": "completed",
    "metrics": {"val/Set5/psnr": 30.5, "val/Set5/ssim": 0.9},
    "params": 1234,
    "steps": 6,
    "wall_s": 12.5,
    "history": [{"step": 6, "wall_s": 12.0, "val/Set5/psnr": 30.5, "val/Set5/ssim": 0.9}],
}
# The keys the README lists for summary.json, in the order they are written.
README_KEYS = [
    "status", "metrics", "best_step", "final_metrics", "params", "cost", "steps", "wall_s",
    "history",
]  # fmt: skip


def write(path: Path, data: dict) -> Path:
    path.write_text(json.dumps(data))
    return path


def test_a_summary_of_the_first_srlab_reads_with_defaults_for_newer_fields(
    tmp_path: Path,
) -> None:
    summary = RunSummary.read(write(tmp_path / "summary.json", FIRST_FORMAT))
    assert summary.status is RunStatus.COMPLETED
    assert summary.metrics == FIRST_FORMAT["metrics"] and summary.history == FIRST_FORMAT["history"]
    assert (summary.params, summary.steps, summary.wall_s) == (1234, 6, 12.5)
    assert summary.best_step is None and summary.final_metrics == {}
    assert summary.error is None and summary.signal is None


def test_a_summary_of_a_newer_srlab_reads_without_what_it_does_not_know(tmp_path: Path) -> None:
    newer = {**FIRST_FORMAT, "status": "queued", "gpu_hours": 0.5, "degradation": {"k": 1}}
    summary = RunSummary.read(write(tmp_path / "summary.json", newer))
    assert summary.status == "queued" and not isinstance(summary.status, RunStatus)
    assert summary.steps == 6 and not hasattr(summary, "gpu_hours")


def test_no_summary_file_reads_as_none(tmp_path: Path) -> None:
    assert RunSummary.read(tmp_path / "summary.json") is None


def test_a_summary_is_written_with_the_keys_the_readme_names(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    RunSummary(RunStatus.COMPLETED, steps=4, params=10).write(path)
    written = json.loads(path.read_text())
    assert list(written) == README_KEYS  # `error` and `signal` only when they apply
    assert written["status"] == "completed" and written["steps"] == 4


def test_a_failed_run_keeps_what_it_reached_and_says_why(tmp_path: Path) -> None:
    job = tmp_path / "sweep" / "0"
    job.mkdir(parents=True)
    path = write(job / "summary.json", {**FIRST_FORMAT, "status": "running"})
    try:
        raise RuntimeError("worker died") from ValueError("bad image")
    except RuntimeError as error:
        mark_failed(path, error, wall_s=99.0)
    written = json.loads(path.read_text())
    assert written["status"] == "failed" and written["error"] == "ValueError: bad image"
    assert written["metrics"] == FIRST_FORMAT["metrics"] and written["wall_s"] == 12.5
    assert failed_jobs(tmp_path / "sweep") == [(str(job), "ValueError: bad image")]


def test_a_signal_before_the_first_step_leaves_an_interrupted_summary(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    mark_interrupted(path, "SIGTERM")
    summary = RunSummary.read(path)
    assert summary.status is RunStatus.INTERRUPTED and summary.signal == "SIGTERM"
    assert summary.steps == 0 and summary.metrics == {}


def test_the_reports_say_the_status_of_old_and_newer_summaries(tmp_path: Path) -> None:
    summaries = {
        "old": FIRST_FORMAT,
        "newer": {**FIRST_FORMAT, "status": "queued"},
        "failed": {**FIRST_FORMAT, "status": "failed", "error": "SRLabError: no Set5\nrun ..."},
        "halfway": {**FIRST_FORMAT, "status": "running"},
    }
    for name, data in summaries.items():
        (tmp_path / name).mkdir()
        write(tmp_path / name / "summary.json", data)
    runs = {name: load_run(tmp_path / name, name) for name in summaries}
    assert runs["old"].status == "completed" and runs["old"].summary_value("params") == 1234
    assert runs["newer"].status == "queued"
    assert runs["failed"].status == "failed: SRLabError: no Set5"
    assert runs["halfway"].status == "unfinished"


def test_the_reports_read_summaries_without_importing_lightning() -> None:
    code = "import sys, srlab.reporting.html; print('lightning' in sys.modules)"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert output.stdout.strip() == "False", output.stderr
