"""Callbacks: summary.json after every validation, LR / bicubic / SR / HR comparison strips, and
a progress bar over the whole step-based run."""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import EarlyStopping, RichProgressBar, Timer
from PIL import Image, ImageDraw, ImageFont

from srlab.data.io import write_image
from srlab.ops.pixels import to_uint8
from srlab.ops.quality import psnr
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
        self.stop_reason = stop_reason(trainer)
        planned = self.stop_reason in ("max_steps", "max_epochs", "early_stopping")
        self.status = RunStatus.COMPLETED if planned else RunStatus.STOPPED
        self.write(trainer, pl_module, tell_loggers=True)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.write(trainer, pl_module)  # the wall time of the final save

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
        remaining = callback.time_remaining() if isinstance(callback, Timer) else None
        if remaining is not None and remaining <= 0:
            return "max_time"
        if isinstance(callback, EarlyStopping) and callback.stopped_epoch > 0:
            return "early_stopping"
    if trainer.max_epochs not in (None, -1) and trainer.current_epoch >= trainer.max_epochs:
        return "max_epochs"
    return "stopped"


def centre_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """(1, C, H, W) -> (C, h, w): the centre `size` x `size` pixels (or less, if smaller)."""
    height, width = image.shape[-2:]
    size_h, size_w = min(size, height), min(size, width)
    top, left = (height - size_h) // 2, (width - size_w) // 2
    return image[0, :, top : top + size_h, left : left + size_w]


def labelled(panel: np.ndarray, label: str, band: int = 18) -> np.ndarray:
    """A uint8 HWC panel under a white band with `label` written in it."""
    rgb = np.repeat(panel, 3, axis=2) if panel.shape[2] == 1 else panel
    canvas = Image.new("RGB", (rgb.shape[1], rgb.shape[0] + band), "white")
    canvas.paste(Image.fromarray(rgb), (0, band))
    font = ImageFont.load_default(size=12)
    ImageDraw.Draw(canvas).text((3, 2), label, fill="black", font=font)
    return np.asarray(canvas)


def comparison_strip(
    batch: dict[str, torch.Tensor], sr: torch.Tensor, crop: int, scale: int, step: int
) -> np.ndarray:
    """LR (nearest-upscaled) | bicubic | SR | HR, centre crops of `crop` HR pixels side by side,
    each labelled (bicubic and SR with their whole-image PSNR, SR with the step), uint8 HWC."""
    lr_up = F.interpolate(batch["lr"], scale_factor=scale, mode="nearest")
    hr = batch["hr"]
    bicubic_db = psnr(batch["bicubic"], hr, border=scale).item()
    sr_db = psnr(sr, hr, border=scale).item()
    panels = {
        "LR": lr_up,
        f"bicubic {bicubic_db:.2f} dB": batch["bicubic"],
        f"SR {sr_db:.2f} dB, step {step}": sr,
        "HR": hr,
    }
    strips = [labelled(to_uint8(centre_crop(p, crop)), name) for name, p in panels.items()]
    return np.concatenate(strips, axis=1)


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
    (`trainer.max_steps`): one bar of max_steps with the run's time remaining, instead of a bar
    per epoch labelled `Epoch 27/-2` (Lightning writes max_epochs - 1, and max_epochs is -1)."""

    def step_based(self) -> bool:
        return self.trainer.max_steps > 0

    @property
    def total_train_batches(self) -> int | float:
        return self.trainer.max_steps if self.step_based() else super().total_train_batches

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.step_based() and self.train_progress_bar_id is not None and self.progress:
            description = self._get_train_description(trainer.current_epoch)
            self.progress.update(self.train_progress_bar_id, description=description)
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
        return f"{f'Epoch {current_epoch}':{len(self.validation_description)}}"
