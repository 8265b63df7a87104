"""Callbacks: summary.json after every validation, LR / bicubic / SR / HR comparison strips, and
a progress bar over the whole step-based run."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import RichProgressBar
from lightning.pytorch.loggers import WandbLogger

from srlab.data.io import write_image
from srlab.ops.convert import to_levels
from srlab.utils.files import write_json


class RunSummary(L.Callback):
    """Keeps summary.json current: status, best validation metrics (at the best `monitor`),
    params, steps, wall time and the validation history. Its state rides in checkpoints, so a
    resumed run continues the history and the clock."""

    def __init__(self, path: str, monitor: str = "val/Set5/psnr"):
        self.path = Path(path)
        self.monitor = monitor
        self.history: list[dict[str, float]] = []
        self.best: dict[str, float] = {}
        self.wall_before_resume = 0.0
        self.started = time.time()

    def wall_s(self) -> float:
        return self.wall_before_resume + time.time() - self.started

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = time.time()
        self.write(trainer, pl_module, "running")

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
            self.best = values
        self.write(trainer, pl_module, "running")

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.write(trainer, pl_module, "completed")

    def write(self, trainer: L.Trainer, pl_module: L.LightningModule, status: str) -> None:
        if not trainer.is_global_zero:
            return
        write_json(
            self.path,
            {
                "status": status,
                "metrics": self.best,
                "params": getattr(pl_module, "n_params", None),
                "steps": trainer.global_step,
                "wall_s": round(self.wall_s(), 2),
                "history": self.history,
            },
        )

    def state_dict(self) -> dict[str, Any]:
        return {"history": self.history, "best": self.best, "wall_s": self.wall_s()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.history = state_dict["history"]
        self.best = state_dict["best"]
        self.wall_before_resume = state_dict["wall_s"]


def comparison_strip(
    lr: torch.Tensor, bicubic: torch.Tensor, sr: torch.Tensor, hr: torch.Tensor, crop: int
) -> np.ndarray:
    """LR (nearest-upscaled) | bicubic | SR | HR, centre crops of `crop` HR pixels, uint8 HWC."""
    scale = hr.shape[-1] // lr.shape[-1]
    lr_up = F.interpolate(lr, scale_factor=scale, mode="nearest")
    height, width = hr.shape[-2:]
    size_h, size_w = min(crop, height), min(crop, width)
    top, left = (height - size_h) // 2, (width - size_w) // 2
    panels = [p[0, :, top : top + size_h, left : left + size_w] for p in (lr_up, bicubic, sr, hr)]
    return to_levels(torch.cat(panels, dim=-1))


class ComparisonImages(L.Callback):
    """Saves the latest comparison strips under the run directory and logs them to W&B."""

    def __init__(self, dirpath: str, crop: int = 160):
        self.dirpath = Path(dirpath)
        self.crop = crop

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        comparisons = getattr(pl_module, "comparisons", [])
        if trainer.sanity_checking or not trainer.is_global_zero or not comparisons:
            return
        images, captions = [], []
        for set_name, image_name, batch, sr in comparisons:
            strip = comparison_strip(batch["lr"], batch["bicubic"], sr, batch["hr"], self.crop)
            write_image(self.dirpath / f"{set_name}_{image_name}.png", strip)
            images.append(strip)
            captions.append(f"{set_name}/{image_name}: LR | bicubic | SR | HR")
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(
                    "val/comparisons", images, step=trainer.global_step, caption=captions
                )


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
