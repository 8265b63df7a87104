"""The progress bar of a step-based run (RunSummary and ComparisonImages: see test_train.py)."""

from __future__ import annotations

from typing import Any

import lightning as L
from lightning.pytorch.demos.boring_classes import BoringModel

from srlab.training.callbacks import StepProgressBar


class RecordingBar(StepProgressBar):
    """Records what the training bar shows after every step."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[tuple[str, float | None, float]] = []

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        super().on_train_batch_end(trainer, *args)
        task = self.progress.tasks[self.train_progress_bar_id]
        self.shown.append((task.description.strip(), task.total, task.completed))


def fit(tmp_path, **trainer_kwargs: Any) -> RecordingBar:
    bar = RecordingBar()
    trainer = L.Trainer(
        default_root_dir=tmp_path,
        callbacks=[bar],
        logger=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        limit_train_batches=3,
        limit_val_batches=0,
        **trainer_kwargs,
    )
    trainer.fit(BoringModel())
    return bar


def test_a_step_based_run_has_one_bar_of_max_steps(tmp_path):
    bar = fit(tmp_path, max_steps=7, max_epochs=-1)

    assert [completed for _, _, completed in bar.shown] == [1, 2, 3, 4, 5, 6, 7]
    assert {total for _, total, _ in bar.shown} == {7}
    assert [description for description, _, _ in bar.shown[::3]] == [
        "Epoch 0",
        "Epoch 1",
        "Epoch 2",
    ]


def test_an_epoch_based_run_keeps_lightnings_bar_per_epoch(tmp_path):
    bar = fit(tmp_path, max_epochs=2)

    assert [completed for _, _, completed in bar.shown] == [1, 2, 3, 1, 2, 3]
    assert bar.shown[-1][0] == "Epoch 1/1"
