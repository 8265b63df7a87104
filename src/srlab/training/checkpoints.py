"""How training writes checkpoints: atomically, with a `last.ckpt` that is always the latest.

Reading them back (for eval, upscale, resume checks) is `srlab.weights.loading`.

Lightning 2.6's ModelCheckpoint rewrites `last.ckpt` at a validation only when a new top-k
checkpoint was saved at that step, so after a validation that got worse `last.ckpt` lags behind:
a resume redoes steps, and `upscale ckpt_path=.../last.ckpt` runs older weights. Here `last.ckpt`
is written at every validation, every periodic checkpoint, at the end of training and on demand
(a pre-emption signal), whether or not the metric improved.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from srlab.utils.files import atomic_writer


class RunCheckpoint(ModelCheckpoint):
    """ModelCheckpoint (best top-k by the monitored metric) + an always-current last.ckpt."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.last_saved_step = -1
        self.last_time_save = time.monotonic()

    def _save_last_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict) -> None:
        super()._save_last_checkpoint(trainer, monitor_candidates)
        self.last_saved_step = trainer.global_step

    def save_latest(self, trainer: L.Trainer) -> None:
        """Write last.ckpt at the current step, unless it already holds this step."""
        if self.last_saved_step != trainer.global_step and trainer.global_step > 0:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        if not trainer.sanity_checking and trainer.state.fn == "fit":
            self.save_latest(trainer)

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        # Lightning defers a periodic save until the monitored metric exists (the next
        # validation); last.ckpt is written at the period itself.
        super().on_train_batch_end(trainer, *args, **kwargs)
        if self.periodic_save_due(trainer.global_step):
            self.save_latest(trainer)

    def periodic_save_due(self, step: int) -> bool:
        if self._every_n_train_steps >= 1 and step % self._every_n_train_steps == 0:
            return True
        if self._train_time_interval is None:
            return False
        now = time.monotonic()
        if now - self.last_time_save < self._train_time_interval.total_seconds():
            return False
        self.last_time_save = now
        return True

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_end(trainer, pl_module)
        self.save_latest(trainer)


class AtomicCheckpointIO(TorchCheckpointIO):
    """Checkpoints written atomically next to their final path, so a kill never leaves half a
    file. Lightning's own save goes through fsspec, which stages the file in the system temp dir
    and then moves it: a copy, not a rename, whenever the run directory is on another filesystem.
    """

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        with atomic_writer(path) as handle:
            torch.save(checkpoint, handle)
