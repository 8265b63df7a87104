"""summary.json: what a run reached (status, best validation metrics, steps, time), one typed
definition for every module that writes or reads it. Written atomically; read by
`RunSummary.read`, which takes what older srlab versions wrote (fewer fields) and what newer ones
write (fields, or a status, it does not know). No Lightning here: the reports import it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

from srlab.utils.errors import SRLabError
from srlab.utils.files import write_json
from srlab.utils.tables import print_table

SUMMARY_FILE = "summary.json"  # in every run directory


class RunStatus(str, Enum):
    """Where a run stands; the value is what summary.json holds."""

    RUNNING = "running"  # training, or killed without a chance to say so
    COMPLETED = "completed"
    FAILED = "failed"  # `error` says why
    INTERRUPTED = "interrupted"  # stopped by a signal (`signal`); `ckpt_path=auto` resumes it
    STOPPED = "stopped"  # ended by a limit before its planned steps (`stop_reason`: max_time)

    def __str__(self) -> str:
        return self.value


# What ended a run (summary.json's `stop_reason`) -> how the closing table and loggers say it.
STOP_REASONS = {
    "max_steps": "reached trainer.max_steps",
    "max_epochs": "reached trainer.max_epochs",
    "early_stopping": "stopped early by its EarlyStopping callback",
    "max_time": "stopped by trainer.max_time",
    "cpu_budget": "reached its CPU budget (callbacks.cpu_budget)",
    "signal": "stopped by a signal",
    "error": "stopped by an error",
    "stopped": "stopped by a callback",  # trainer.should_stop, set by something else
}


def parse_status(value: Any) -> RunStatus | str:
    """A RunStatus; a status this version does not know (a newer srlab's) stays as written."""
    try:
        return RunStatus(value)
    except ValueError:
        return str(value)


@dataclass
class RunSummary:
    """One run's summary.json, key for key."""

    status: RunStatus | str
    metrics: dict[str, float] = field(default_factory=dict)  # at the best validation
    best_step: int | None = None  # the best validation's (the best checkpoint's) step
    final_metrics: dict[str, float] = field(default_factory=dict)  # at the last validation
    params: int | None = None
    cost: dict[str, Any] | None = None  # srlab.ops.cost: params, MACs, its input, latency
    steps: int = 0
    steps_planned: int | None = None  # trainer.max_steps (None: an epoch-based run)
    wall_s: float | None = None
    history: list[dict[str, float]] = field(default_factory=list)  # step, wall_s, val/... each
    error: str | None = None  # failed: the first real exception
    signal: str | None = None  # interrupted: the signal's name
    # what ended it (STOP_REASONS): max_steps, max_time, signal, error ...; None while it runs
    stop_reason: str | None = None
    degradation: str | None = None  # what made its LR (srlab.data.degradation): bicubic, bd_...

    @classmethod
    def from_dict(cls, data: Any) -> RunSummary:
        """Missing or null fields take their defaults; fields this version does not know are
        left out."""
        if not isinstance(data, dict):
            raise ValueError(f"a summary is a JSON object, not {type(data).__name__}")
        known = {item.name for item in fields(cls)}
        values = {key: value for key, value in data.items() if key in known and value is not None}
        return cls(**{**values, "status": parse_status(values.get("status", "unknown"))})

    @classmethod
    def read(cls, path: str | Path) -> RunSummary | None:
        """The summary at `path`, None when there is none; an unreadable one raises OSError or
        ValueError."""
        path = Path(path)
        if not path.is_file():
            return None
        return cls.from_dict(json.loads(path.read_text()))

    def to_dict(self) -> dict[str, Any]:
        """As summary.json holds it: `steps_planned`, `error`, `signal`, `stop_reason` and
        `degradation` only when set."""
        data = {**asdict(self), "status": str(self.status)}
        for key in ("steps_planned", "error", "signal", "stop_reason", "degradation"):
            if data[key] is None:
                del data[key]
        return data

    def write(self, path: str | Path) -> None:
        write_json(path, self.to_dict())


def first_exception(error: BaseException) -> BaseException:
    """The exception that started it: a failure inside a DataLoader worker or a callback often
    surfaces as a second error raised while handling the first."""
    while not isinstance(error, SRLabError) and (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__
    return error


def mark_failed(path: str | Path, error: BaseException, wall_s: float | None = None) -> None:
    """Keep what the run reached, and say why it stopped."""
    summary = RunSummary.read(path) or RunSummary(RunStatus.FAILED, wall_s=wall_s)
    first = first_exception(error)
    summary.status, summary.error = RunStatus.FAILED, f"{type(first).__name__}: {first}"
    summary.stop_reason = "error"
    summary.write(path)


def mark_interrupted(path: str | Path, signal_name: str) -> None:
    """A signal stopped the run before its first step saved anything: keep what it had."""
    summary = RunSummary.read(path) or RunSummary(RunStatus.INTERRUPTED)
    summary.status, summary.signal = RunStatus.INTERRUPTED, signal_name
    summary.stop_reason = "signal"
    summary.write(path)


def steps_reached(summary: RunSummary) -> str:
    """`244 of 1600 steps` for a run that ended short of its plan, else `1600 steps`."""
    planned = summary.steps_planned
    if planned and summary.steps < planned:
        return f"{summary.steps} of {planned} steps"
    return f"{summary.steps} steps"


def how_it_ended(summary: RunSummary) -> str:
    """`stopped by trainer.max_time at step 244 of 1600 steps`; "" while it runs."""
    if summary.stop_reason is None:
        return ""
    reason = STOP_REASONS.get(summary.stop_reason, summary.stop_reason)
    if summary.stop_reason == "signal" and summary.signal:
        reason = f"stopped by {summary.signal}"
    return f"{reason} at step {steps_reached(summary).removesuffix(' steps')}"


def print_run_table(summary: RunSummary, scale: int, run_dir: Path | None = None) -> None:
    """Per validation set: bicubic and model PSNR/SSIM at the best validation; a run that
    ended short of its steps says so in the title and caption."""
    metrics = summary.metrics
    sets = sorted({key.split("/")[1] for key in metrics if key.count("/") == 2})
    rows = []
    for name in sets:
        for method, prefix in (("bicubic", "bicubic_"), ("model", "")):
            psnr = metrics.get(f"val/{name}/{prefix}psnr")
            ssim = metrics.get(f"val/{name}/{prefix}ssim")
            if psnr is not None:
                rows.append((name, method, f"{psnr:.2f}", f"{ssim:.4f}"))
    title = f"x{scale} results ({steps_reached(summary)}, {summary.wall_s} s)"
    best = f"best: step {summary.best_step}" if summary.best_step is not None else ""
    short = summary.status != RunStatus.COMPLETED
    ended = how_it_ended(summary) if short else ""
    caption = " · ".join(part for part in (ended, best, str(run_dir or "")) if part)
    print_table(title, ("set", "method", "PSNR (dB)", "SSIM"), rows, caption=caption or None)
