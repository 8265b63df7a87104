"""How training writes checkpoints: atomically, with a `last.ckpt` that is always the latest.

Reading them back (for eval, upscale, resume checks) is `srlab.weights.loading`.

Lightning 2.6's ModelCheckpoint rewrites `last.ckpt` at a validation only when a new top-k
checkpoint was saved at that step, so after a validation that got worse `last.ckpt` lags behind:
a resume redoes steps, and `upscale ckpt_path=.../last.ckpt` runs older weights. Here `last.ckpt`
is written at every validation, every periodic checkpoint, at the end of training and on demand
(a pre-emption signal), whether or not the metric improved.

Lightning's periodic save (`every_n_train_steps`) also ranks the top-k, by the metric of the last
validation, i.e. of older weights; and a validation at a step that was already saved (the periodic
save just before it) ranks nothing. `best-step<N>.ckpt` then held unvalidated weights, or was
missing. Here the top-k is ranked at every validation and only there, with the weights it scored.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.io import TorchCheckpointIO

from srlab.utils.files import NoSpaceLeft, atomic_writer, remove_partial_writes

log = logging.getLogger(__name__)


class RunCheckpoint(ModelCheckpoint):
    """ModelCheckpoint (best top-k by the monitored metric, at validations) + an always-current
    last.ckpt."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.last_saved_step = -1
        self.last_time_save = time.monotonic()

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        folder = Path(self.dirpath)
        if stage == "fit" and trainer.is_global_zero and folder.is_dir():
            # left by a run killed mid-write, each up to a whole checkpoint
            for path in remove_partial_writes(folder):
                log.info("removed %s, a checkpoint cut short by a kill", path)

    def _save_last_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict) -> None:
        super()._save_last_checkpoint(trainer, monitor_candidates)
        self.last_saved_step = trainer.global_step

    def save_latest(self, trainer: L.Trainer) -> None:
        """Write last.ckpt at the current step, unless it already holds this step."""
        if self.last_saved_step != trainer.global_step and trainer.global_step > 0:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Not Lightning's, which skips a step already saved: a periodic last.ckpt at this step.
        if trainer.sanity_checking or trainer.state.fn != "fit" or trainer.fast_dev_run:
            return
        candidates = self._monitor_candidates(trainer)
        self._save_topk_checkpoint(trainer, candidates)
        # again after a periodic save at this step: now with this validation in its state
        self._save_last_checkpoint(trainer, candidates)

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        # Not Lightning's, which ranks the top-k here too: last.ckpt only.
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
        try:
            with atomic_writer(path, size=tensor_bytes(checkpoint)) as handle:
                torch.save(checkpoint, handle)
        except NoSpaceLeft as error:
            raise NoSpaceLeft(f"{error}; then resume with ckpt_path=auto") from None


def tensor_bytes(state: Any) -> int:
    """The bytes of the tensors in a checkpoint: about the size of its file."""
    if isinstance(state, torch.Tensor):
        return state.nbytes
    if isinstance(state, dict):
        return sum(tensor_bytes(value) for value in state.values())
    if isinstance(state, list | tuple):
        return sum(tensor_bytes(value) for value in state)
    return 0
