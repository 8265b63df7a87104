"""Callbacks: summary.json after every validation, LR / bicubic / SR / HR comparison strips, and
a progress bar over the whole step-based run."""

from __future__ import annotations

import logging
import math
import re
import sys
import time
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import EarlyStopping, RichProgressBar, Timer
from lightning.pytorch.callbacks.progress.rich_progress import (
    BatchesProcessedColumn,
    ProcessingSpeedColumn,
)
from rich.progress import BarColumn, TextColumn, TimeRemainingColumn

from srlab.data.io import write_image
from srlab.training.strips import comparison_strip
from srlab.training.summary import RunStatus, RunSummary

log = logging.getLogger(__name__)


class RunSummaryWriter(L.Callback):
    """Keeps summary.json (a RunSummary) current: status, best validation metrics (at the best
    `monitor`), params, steps, wall time and the validation history. Its state rides in
    checkpoints, so a resumed run continues the history and the clock."""

    def __init__(self, path: str, monitor: str = "val/Set5/psnr"):
        self.path = Path(path)
        self.monitor = monitor
        self.history: list[dict[str, float]] = []
        self.best: dict[str, float] = {}
        self.best_step: int | None = None
        self.status = RunStatus.RUNNING
        self.signal: str | None = None
        self.stop_reason: str | None = None
        self.wall_before_resume = 0.0
        self.started = time.time()

    @property
    def state_key(self) -> str:
        return "RunSummary"  # its former class name: its state's key in every checkpoint

    def wall_s(self) -> float:
        return self.wall_before_resume + time.time() - self.started

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = time.time()
        self.status, self.signal, self.stop_reason = RunStatus.RUNNING, None, None
        self.write(trainer, pl_module)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        values = {
            key: float(value)
            for key, value in trainer.callback_metrics.items()
            if key.startswith("val/")
        }
        self.history.append({"step": trainer.global_step, "wall_s": self.wall_s(), **values})
        score = values.get(self.monitor, -math.inf)
        if not self.best or score > self.best.get(self.monitor, -math.inf):
            self.best, self.best_step = values, trainer.global_step
        self.write(trainer, pl_module)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Here, not at on_fit_end: the loggers are still open (Lightning closes them between).
        self.ended(trainer)
        self.write(trainer, pl_module, tell_loggers=True)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.status == RunStatus.RUNNING:  # resumed at its limits: no training ran, nor ended
            self.ended(trainer)
        self.write(trainer, pl_module)  # the wall time of the final save

    def ended(self, trainer: L.Trainer) -> None:
        """Completed at its planned end, or stopped short by a limit (`stop_reason`)."""
        self.stop_reason = stop_reason(trainer)
        planned = self.stop_reason in ("max_steps", "max_epochs", "early_stopping", "cpu_budget")
        self.status = RunStatus.COMPLETED if planned else RunStatus.STOPPED

    def interrupt(self, trainer: L.Trainer, signal_name: str) -> None:
        """A signal stopped the run at this step; `ckpt_path=auto` resumes it."""
        self.status, self.signal = RunStatus.INTERRUPTED, signal_name
        self.stop_reason = "signal"
        self.write(trainer, trainer.lightning_module, tell_loggers=True)

    def write(
        self, trainer: L.Trainer, pl_module: L.LightningModule, tell_loggers: bool = False
    ) -> None:
        """summary.json; with `tell_loggers`, how the run ended goes to every logger that keeps
        it (`log_run_end`)."""
        if not trainer.is_global_zero:
            return
        final = self.history[-1] if self.history else {}
        summary = RunSummary(
            status=self.status,
            metrics=self.best,
            best_step=self.best_step,
            final_metrics={k: v for k, v in final.items() if k.startswith("val/")},
            params=getattr(pl_module, "n_params", None),
            cost=getattr(pl_module, "cost", None),
            steps=trainer.global_step,
            steps_planned=trainer.max_steps if trainer.max_steps > 0 else None,
            wall_s=round(self.wall_s(), 2),
            history=self.history,
            signal=self.signal,
            stop_reason=self.stop_reason,
            degradation=degradation_name(trainer),
        )
        summary.write(self.path)
        if tell_loggers:
            for logger in trainer.loggers:  # Lightning's CSVLogger keeps no such record
                if hasattr(logger, "log_run_end"):
                    logger.log_run_end(summary)

    def state_dict(self) -> dict[str, Any]:
        return {
            "history": self.history,
            "best": self.best,
            "best_step": self.best_step,
            "wall_s": self.wall_s(),
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = state_dict["history"]
        self.best = state_dict["best"]
        self.best_step = state_dict.get("best_step")
        self.wall_before_resume = state_dict["wall_s"]


def stop_reason(trainer: L.Trainer) -> str:
    """What ended a fit that ended by itself: a key of summary.STOP_REASONS."""
    if 0 < trainer.max_steps <= trainer.global_step:
        return "max_steps"
    for callback in trainer.callbacks:
        if isinstance(callback, CPUBudget) and callback.exhausted():
            return "cpu_budget"
        remaining = callback.time_remaining() if isinstance(callback, Timer) else None
        if remaining is not None and remaining <= 0:
            return "max_time"
        if isinstance(callback, EarlyStopping) and callback.stopped_epoch > 0:
            return "early_stopping"
    if trainer.max_epochs not in (None, -1) and trainer.current_epoch >= trainer.max_epochs:
        return "max_epochs"
    return "stopped"


def degradation_name(trainer: L.Trainer) -> str | None:
    """What made the run's LR (srlab.data.degradation); None for a datamodule without one."""
    degradation = getattr(trainer.datamodule, "degradation", None)
    return degradation.name if degradation is not None else None


class CPUBudget(L.Callback):
    """Ends training once it has used `seconds` of this process's CPU time (all its threads),
    validation left out: every run of a study gets the same budget however busy the machine is
    (trainer.max_time counts wall time, which other processes stretch). Kept across a resume."""

    def __init__(self, seconds: float | None = None):
        if seconds is not None and seconds <= 0:
            raise ValueError(f"callbacks.cpu_budget.seconds={seconds}: give a positive number")
        self.seconds = seconds  # None: no budget
        self.spent_before = 0.0  # by the run this one resumes
        self.started: float | None = None
        self.validation_started: float | None = None

    def spent_s(self) -> float:
        now = time.process_time()
        return self.spent_before + (now - self.started if self.started is not None else 0.0)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = time.process_time()

    def exhausted(self) -> bool:
        return self.seconds is not None and self.spent_s() >= self.seconds

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if self.exhausted():
            trainer.should_stop = True  # Lightning then validates this step

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.validation_started = time.process_time()

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.started is not None and self.validation_started is not None:
            self.started += time.process_time() - self.validation_started  # not training

    def state_dict(self) -> dict[str, Any]:
        return {"spent_s": self.spent_s()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.spent_before = state_dict["spent_s"]


class FinalValidation(L.Callback):
    """Validates the final weights: at `max_steps`, asking the trainer to stop makes Lightning
    run a validation at that step (as it does for early stopping and `max_time`), so every run
    ends measured, checkpointed and logged, whatever `val_check_interval` is."""

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if 0 < trainer.max_steps <= trainer.global_step:
            trainer.should_stop = True


class TimeEstimate(L.Callback):
    """What the run's limits will do, said early from the measured seconds per step: after
    `after_steps` steps, a CPU run that would take over `warn_over_s` (to its last step, or to
    `trainer.max_time` when that comes first) gives its hours and the quick alternative (the
    defaults are the EDSR-baseline recipe); after `horizon_steps`, a run that `trainer.max_time`
    will stop before `trainer.max_steps` says near which step, and the limit that lets it finish.
    """

    def __init__(self, after_steps: int = 5, warn_over_s: float = 3600, horizon_steps: int = 30):
        self.after_steps = after_steps
        self.warn_over_s = warn_over_s
        self.horizon_steps = horizon_steps
        self.start_step = 0
        self.step_ends: dict[int, float] = {}  # steps done -> when

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.start_step, self.step_ends = trainer.global_step, {}  # a resume: its step

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        done = trainer.global_step - self.start_step
        # from the end of the first step (not the data loaders' start), and for the horizon from
        # the hours' estimate on (the first steps are slower: caches, allocations)
        first, hours, horizon = 1, self.after_steps + 1, self.horizon_steps + 1
        if done not in (first, hours, horizon) or trainer.max_steps <= 0:
            return
        self.step_ends[done] = time.time()
        if done == first or not trainer.is_global_zero:
            return
        since = hours if done == horizon and hours < done else first
        if since not in self.step_ends:
            return
        per_step = (self.step_ends[done] - self.step_ends[since]) / (done - since)
        time_left = max_time_left(trainer)
        if done == hours:
            self.say_hours(trainer, per_step, time_left)
        if done == horizon and time_left is not None:
            self.say_time_limit(trainer, per_step, time_left)

    def say_hours(self, trainer: L.Trainer, per_step: float, time_left: float | None) -> None:
        if trainer.accelerator.__class__.__name__ != "CPUAccelerator":
            return
        steps = trainer.max_steps - trainer.global_step
        if time_left is not None:  # trainer.max_time ends it first: count the steps it allows
            steps = min(steps, int(time_left / per_step))
        if steps * per_step > self.warn_over_s:
            log.warning(
                "on this CPU the run needs about %.1f h more (%d steps x %.2f s/step); for a quick "
                "try use experiment=quick, or trainer.max_steps=...",
                steps * per_step / 3600,
                steps,
                per_step,
            )

    def say_time_limit(self, trainer: L.Trainer, per_step: float, time_left: float) -> None:
        reachable = trainer.global_step + int(time_left / per_step)
        if reachable >= trainer.max_steps:
            return
        timer = next(c for c in trainer.callbacks if isinstance(c, Timer))
        needed = timer.time_elapsed() + (trainer.max_steps - trainer.global_step) * per_step
        log.warning(
            "at %.2f s/step, trainer.max_time=%s stops this run near step %d of %d; for all its "
            "steps pass trainer.max_time=%s (or trainer.max_time=null)",
            per_step,
            duration_text(timer.time_elapsed() + time_left),
            reachable,
            trainer.max_steps,
            duration_text(math.ceil(needed * 1.2 / 60) * 60),  # a margin for the validations
        )


def max_time_left(trainer: L.Trainer) -> float | None:
    """Seconds until `trainer.max_time` stops the run; None without one."""
    for callback in trainer.callbacks:
        if isinstance(callback, Timer) and callback.time_remaining() is not None:
            return callback.time_remaining()
    return None


def duration_text(seconds: float) -> str:
    """`00:00:08:30`: the DD:HH:MM:SS of `trainer.max_time`."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    return f"{days:02d}:{hours:02d}:{minutes:02d}:{secs:02d}"


class ComparisonImages(L.Callback):
    """Saves the latest comparison strips under the run directory and logs them (W&B,
    TensorBoard, MLflow: whichever loggers keep images)."""

    def __init__(self, dirpath: str, crop: int = 160):
        self.dirpath = Path(dirpath)
        self.crop = crop

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        comparisons = getattr(pl_module, "comparisons", [])
        if trainer.sanity_checking or not trainer.is_global_zero or not comparisons:
            return
        images, captions = [], []
        for set_name, image_name, batch, sr in comparisons:
            strip = comparison_strip(batch, sr, self.crop, pl_module.scale, trainer.global_step)
            write_image(self.dirpath / f"{set_name}_{image_name}.png", strip)
            images.append(strip)
            captions.append(f"{set_name}/{image_name}: LR | bicubic | SR | HR")
        for logger in trainer.loggers:  # each of srlab's loggers keeps images its own way
            if hasattr(logger, "log_sr_images"):  # Lightning's CSVLogger keeps none
                logger.log_sr_images("val/comparisons", images, captions, trainer.global_step)


class StepProgressBar(RichProgressBar):
    """Lightning's rich progress bar, over the whole run when it is step-based
    (`trainer.max_steps`): one bar of max_steps, in 80 columns: the steps, the run's time
    remaining, steps/s, the loss and the last validation's PSNR (of `monitor`; default: the first
    set's), instead of a bar per epoch labelled `Epoch 27/-2` (Lightning writes max_epochs - 1,
    and max_epochs is -1) with a `v_num`. While it is drawn, log messages (srlab's, Lightning's)
    print above it, not into it."""

    def __init__(self, refresh_rate: int = 1, monitor: str | None = None, **kwargs: Any):
        super().__init__(refresh_rate=refresh_rate, **kwargs)
        self.monitor = monitor
        self.rerouted: list[tuple[logging.StreamHandler, Any]] = []

    def step_based(self) -> bool:
        return self.trainer.max_steps > 0

    @property
    def total_train_batches(self) -> int | float:
        return self.trainer.max_steps if self.step_based() else super().total_train_batches

    @property
    def validation_description(self) -> str:
        return "val" if self.step_based() else super().validation_description

    def configure_columns(self, trainer: L.Trainer) -> list:
        if trainer.max_steps <= 0:
            return super().configure_columns(trainer)
        return [
            TextColumn("[progress.description]{task.description}"),
            BarColumn(bar_width=16, complete_style=self.theme.progress_bar),
            BatchesProcessedColumn(style=self.theme.batch_progress),
            TimeRemainingColumn(),
            ProcessingSpeedColumn(style=self.theme.processing_speed),
        ]

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        """The loss and the last validation's PSNR: no `v_num`, nothing that would not fit."""
        items = super().get_metrics(trainer, pl_module)
        if not self.step_based():
            return items
        shown = {"loss": items["train/loss"]} if "train/loss" in items else {}
        psnr = last_psnr(trainer.callback_metrics, self.monitor)
        if psnr is not None:
            shown["PSNR"] = f"{psnr:.2f}"
        return shown

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        if self.progress is not None and self.is_enabled:
            self.reroute_logs()

    def reroute_logs(self) -> None:
        """Log handlers that print to the terminal print through the bar's display (which
        draws them above itself) while it is live; they hold the streams of before."""
        # rich's live display stands in for sys.stdout and sys.stderr: the files it proxies
        live = {
            getattr(proxy, "rich_proxied_file", None): proxy for proxy in (sys.stdout, sys.stderr)
        }
        live.pop(None, None)
        loggers = [logging.getLogger(), logging.getLogger("lightning.pytorch")]
        for handler in [handler for logger in loggers for handler in logger.handlers]:
            stream = getattr(handler, "stream", None)
            if type(handler) is logging.StreamHandler and stream in live:
                self.rerouted.append((handler, handler.setStream(live[stream])))

    def restore_logs(self) -> None:
        for handler, stream in self.rerouted:
            handler.setStream(stream)
        self.rerouted = []

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self.restore_logs()
        super().teardown(trainer, pl_module, stage)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, error: Any) -> None:
        self.restore_logs()
        super().on_exception(trainer, pl_module, error)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.step_based() and self.train_progress_bar_id is not None and self.progress:
            return  # Lightning would reset the bar (count, clock, speed) every epoch
        super().on_train_epoch_start(trainer, pl_module)
        if self.step_based():  # a resumed run starts at its step
            self._update(self.train_progress_bar_id, trainer.global_step)

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if self.step_based():  # Lightning draws batch_idx + 1 of the epoch
            batch_idx = trainer.global_step - 1
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def _get_train_description(self, current_epoch: int) -> str:
        if not self.step_based():
            return super()._get_train_description(current_epoch)
        return ""  # the steps say where the run is; its epochs mean nothing


def last_psnr(metrics: dict[str, Any], monitor: str | None = None) -> float | None:
    """The last validation's PSNR: `monitor`'s, else the first set's (`val/<set>/psnr`)."""
    keys = [monitor] if monitor else [k for k in metrics if re.fullmatch(r"val/[^/]+/psnr", k)]
    value = metrics.get(keys[0]) if keys else None
    return None if value is None else float(value)
