"""Callbacks: summary.json after every validation, and LR / bicubic / SR / HR comparison strips."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from lightning.pytorch.loggers import WandbLogger

from srlab.data.io import write_image
from srlab.summary import write_json


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
    strip = torch.cat(panels, dim=-1).clamp(0, 1).mul(255).round().byte()
    return strip.permute(1, 2, 0).cpu().numpy()


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
