"""train.log as a BasicSR user reads it, to follow a run with `tail -f`: a line per logging
interval (step, loss and its terms, learning rate, steps/s, ETA) and one per validation (each
set's PSNR/SSIM beside bicubic's)."""

from __future__ import annotations

import logging
import re
import time
from datetime import timedelta
from typing import Any

import lightning as L

from srlab.training.callbacks import max_time_left

log = logging.getLogger(__name__)


class TrainLog(L.Callback):
    """The run in its log (train.log), to follow with `tail -f`: at every logging interval
    (`trainer.log_every_n_steps`) the step, loss and its terms, learning rate, steps/s and the
    time to the last step; after every validation its metrics. While a progress bar shows the
    steps, their lines go to the log file only (the terminal has the bar)."""

    def __init__(self) -> None:
        self.last: tuple[int, float] | None = None  # (step, time) of the last line

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.last = (trainer.global_step, time.monotonic())

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        step, interval = trainer.global_step, trainer.log_every_n_steps
        if not trainer.is_global_zero or interval <= 0 or step % interval or self.last is None:
            return
        now = time.monotonic()
        rate = (step - self.last[0]) / max(now - self.last[1], 1e-9)
        self.last = (step, now)
        line = step_line(trainer, trainer.callback_metrics, rate)
        showing_steps = trainer.progress_bar_callback is not None
        say(line, to_terminal=not showing_steps)

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking or not trainer.is_global_zero:
            return
        say(validation_line(trainer.global_step, trainer.callback_metrics), to_terminal=True)


def step_line(trainer: L.Trainer, metrics: dict[str, Any], steps_per_s: float) -> str:
    """`step 500/1600 · loss 0.02314 (l1 0.02314) · lr 9.12e-04 · 3.21 steps/s · ETA 0:05:42`."""
    step, planned = trainer.global_step, trainer.max_steps
    parts = [f"step {step}/{planned}" if planned > 0 else f"step {step}"]
    if "train/loss" in metrics:
        terms = " ".join(
            f"{key.removeprefix('train/loss_')} {float(value):.5f}"
            for key, value in metrics.items()
            if key.startswith("train/loss_")
        )
        parts.append(f"loss {float(metrics['train/loss']):.5f}" + (f" ({terms})" if terms else ""))
    if "train/lr" in metrics:
        parts.append(f"lr {float(metrics['train/lr']):.2e}")
    parts.append(f"{steps_per_s:.2f} steps/s")
    if planned > 0 and steps_per_s > 0:
        left = (planned - step) / steps_per_s
        time_left = max_time_left(trainer)
        if time_left is not None and time_left < left:  # trainer.max_time ends it first
            parts.append(f"ETA {timedelta(seconds=round(time_left))} (trainer.max_time)")
        else:
            parts.append(f"ETA {timedelta(seconds=round(left))}")
    return " · ".join(parts)


def validation_line(step: int, metrics: dict[str, Any]) -> str:
    """`validation at step 500: Set5 PSNR 36.12 dB SSIM 0.9501 (bicubic 33.66 dB 0.9299)`."""
    sets: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        if re.fullmatch(r"val/[^/]+/\w+", key):
            _, name, metric = key.split("/")
            sets.setdefault(name, {})[metric] = float(value)
    scores = []
    for name, value in sets.items():
        text = f"{name} {scores_text(value.get('psnr'), value.get('ssim'))}"
        if "bicubic_psnr" in value:
            text += f" (bicubic {scores_text(value['bicubic_psnr'], value.get('bicubic_ssim'))})"
        scores.append(text)
    return f"validation at step {step}: " + "; ".join(scores)


def scores_text(psnr: float | None, ssim: float | None) -> str:
    return " ".join(
        ([f"PSNR {psnr:.2f} dB"] if psnr is not None else [])
        + ([f"SSIM {ssim:.4f}"] if ssim is not None else [])
    )


def say(line: str, to_terminal: bool) -> None:
    """An INFO line of srlab's log: to the terminal and the log file, or to the file only."""
    if to_terminal:
        log.info(line)
        return
    record = log.makeRecord(log.name, logging.INFO, __file__, 0, line, (), None)
    for handler in logging.getLogger().handlers:  # Hydra's: the run's <task>.log
        if isinstance(handler, logging.FileHandler) and log.isEnabledFor(logging.INFO):
            handler.handle(record)
