"""RunSummaryWriter's choice of the best validation, the progress bar of a step-based run, and
what TimeEstimate says early (ComparisonImages and the summary of a whole run: see
test_train.py)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import lightning as L
import pytest
import torch
from lightning.pytorch.accelerators import CPUAccelerator
from lightning.pytorch.callbacks import Timer
from lightning.pytorch.demos.boring_classes import BoringModel
from lightning.pytorch.loggers import CSVLogger
from rich.console import Console

from srlab.training import callbacks as callbacks_module
from srlab.training.callbacks import RunSummaryWriter, StepProgressBar, TimeEstimate

# Three validations: PSNR peaks at step 4 while SSIM goes on rising (values exact in float32,
# the metrics' dtype).
VALIDATIONS = {
    2: {"val/Set5/psnr": 30.0, "val/Set5/ssim": 0.75, "val/Set14/psnr": 28.0},
    4: {"val/Set5/psnr": 31.5, "val/Set5/ssim": 0.875, "val/Set14/psnr": 28.5},
    6: {"val/Set5/psnr": 31.25, "val/Set5/ssim": 0.9375, "val/Set14/psnr": 29.0},
}


def validate(summary: RunSummaryWriter, validations: dict[int, dict[str, float]]) -> dict:
    """Each validation's metrics as Lightning hands them to callbacks; summary.json after."""
    module = SimpleNamespace(n_params=123)
    for step, values in validations.items():
        metrics = {key: torch.tensor(value) for key, value in values.items()}
        metrics["train/loss"] = torch.tensor(0.1)  # not a validation metric
        trainer = SimpleNamespace(
            sanity_checking=False, is_global_zero=True, global_step=step, callback_metrics=metrics,
            max_steps=6, datamodule=None,
        )  # fmt: skip
        summary.on_validation_end(trainer, module)
    return json.loads(summary.path.read_text())


def test_the_summary_keeps_every_metric_of_the_validation_best_on_the_monitor(
    tmp_path: Path,
) -> None:
    written = validate(RunSummaryWriter(str(tmp_path / "summary.json")), VALIDATIONS)
    assert written["best_step"] == 4
    assert written["metrics"] == VALIDATIONS[4]  # SSIM and Set14 of step 4, not their own best
    assert written["final_metrics"] == VALIDATIONS[6]
    assert [entry["step"] for entry in written["history"]] == [2, 4, 6]
    assert written["history"][2]["val/Set14/psnr"] == 29.0
    assert written["status"] == "running" and written["params"] == 123


def test_the_monitor_decides_which_validation_is_best(tmp_path: Path) -> None:
    summary = RunSummaryWriter(str(tmp_path / "summary.json"), monitor="val/Set5/ssim")
    written = validate(summary, VALIDATIONS)
    assert written["best_step"] == 6 and written["metrics"] == VALIDATIONS[6]


def test_a_resumed_summary_keeps_the_best_of_the_validations_before_it(tmp_path: Path) -> None:
    before = RunSummaryWriter(str(tmp_path / "summary.json"))
    validate(before, {step: VALIDATIONS[step] for step in (2, 4)})
    resumed = RunSummaryWriter(str(tmp_path / "summary.json"))
    resumed.load_state_dict(before.state_dict())
    written = validate(resumed, {6: VALIDATIONS[6]})
    assert written["best_step"] == 4 and written["metrics"] == VALIDATIONS[4]
    assert [entry["step"] for entry in written["history"]] == [2, 4, 6]


def test_a_checkpoint_from_before_the_rename_resumes_the_summary(tmp_path: Path) -> None:
    """Checkpoints hold the callback's state under its class name of then, `RunSummary`."""
    quiet = {"logger": False, "enable_progress_bar": False, "enable_model_summary": False}
    quiet |= {"limit_val_batches": 0, "default_root_dir": tmp_path}
    first = L.Trainer(max_steps=2, enable_checkpointing=False, **quiet)
    first.fit(BoringModel())
    ckpt = tmp_path / "old.ckpt"
    first.save_checkpoint(ckpt)
    checkpoint = torch.load(ckpt, weights_only=False)
    history = [{"step": 2, "wall_s": 1.0, "val/Set5/psnr": 30.0}]
    checkpoint["callbacks"] = {"RunSummary": {"history": history, "best": {}, "wall_s": 1.0}}
    torch.save(checkpoint, ckpt)
    writer = RunSummaryWriter(str(tmp_path / "summary.json"))
    L.Trainer(max_steps=4, callbacks=[writer], **quiet).fit(BoringModel(), ckpt_path=ckpt)
    written = json.loads(writer.path.read_text())
    assert written["history"] == history and written["wall_s"] >= 1.0


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
    assert {description for description, _, _ in bar.shown} == {""}  # no `Epoch 2` of 3 batches


class ScoredModel(BoringModel):
    """A model that logs what SRModule logs for the bar: the loss, and a validation PSNR."""

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        output = super().training_step(batch, batch_idx)
        self.log("train/loss", output["loss"], prog_bar=True)
        return output

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self.log("val/Set5/psnr", 30.0 + self.global_step / 100)


def test_a_step_based_bar_fits_80_columns_with_the_loss_and_last_psnr(tmp_path):
    bar = StepProgressBar(monitor="val/Set5/psnr")
    trainer = L.Trainer(
        default_root_dir=tmp_path, callbacks=[bar], logger=CSVLogger(tmp_path),
        enable_checkpointing=False, enable_model_summary=False, max_steps=6,
        val_check_interval=4, check_val_every_n_epoch=None, limit_val_batches=1,
        limit_train_batches=3,
    )  # fmt: skip
    trainer.fit(ScoredModel())
    # the widest a run draws: step 123456 of 300000
    bar.progress.update(bar.train_progress_bar_id, completed=123456, total=300000)
    screen = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    screen.print(bar.progress.get_renderable())
    (line,) = [line for line in screen.export_text().splitlines() if "123456/300000" in line]
    assert len(line.rstrip()) <= 80 and "v_num" not in line and "Epoch" not in line
    assert "loss: " in line and line.rstrip().endswith("PSNR: 30.04")  # the validation at 4


def test_an_epoch_based_run_keeps_lightnings_bar_per_epoch(tmp_path):
    bar = fit(tmp_path, max_epochs=2)

    assert [completed for _, _, completed in bar.shown] == [1, 2, 3, 1, 2, 3]
    assert bar.shown[-1][0] == "Epoch 1/1"


def estimates(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, callbacks: list[Any]
) -> list[str]:
    """What TimeEstimate says over the first 31 steps of a 1600-step CPU run at 3 s a step."""
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(callbacks_module, "time", SimpleNamespace(time=lambda: clock.now))
    trainer = SimpleNamespace(
        global_step=0, max_steps=1600, is_global_zero=True, accelerator=CPUAccelerator(),
        callbacks=callbacks,
    )  # fmt: skip
    estimate = TimeEstimate()
    estimate.on_train_start(trainer, None)
    with caplog.at_level(logging.WARNING, logger=callbacks_module.__name__):
        for step in range(1, 32):
            trainer.global_step, clock.now = step, 3.0 * step
            estimate.on_train_batch_end(trainer)
    return [record.getMessage() for record in caplog.records]


def test_a_cpu_run_of_hours_says_so_after_a_few_steps(monkeypatch, caplog) -> None:
    (said,) = estimates(monkeypatch, caplog, callbacks=[])
    assert said.startswith("on this CPU the run needs about 1.3 h more (1594 steps x 3.00 s/step)")


def test_the_estimate_counts_the_steps_max_time_allows(monkeypatch, caplog) -> None:
    timer = Timer(duration="00:00:08:30")
    timer.load_state_dict({"time_elapsed": {"train": 10.0}})  # 500 s left, whatever the clock
    (said,) = estimates(monkeypatch, caplog, callbacks=[timer])  # no hours: max_time ends it
    assert said.startswith("at 3.00 s/step, trainer.max_time=00:00:08:30 stops this run near ")
    assert "near step 197 of 1600; for all its steps pass trainer.max_time=" in said
    assert said.endswith("(or trainer.max_time=null)")


class CPUClock:
    """time.process_time as the CPU budget sees it: a training step costs 1 s, a validation
    batch 10 s."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class ClockedModel(BoringModel):
    def __init__(self, clock: CPUClock):
        super().__init__()
        self.clock = clock

    def training_step(self, batch: Any, batch_idx: int) -> Any:
        self.clock.now += 1.0
        return super().training_step(batch, batch_idx)

    def validation_step(self, batch: Any, batch_idx: int) -> Any:
        self.clock.now += 10.0
        return super().validation_step(batch, batch_idx)


def test_the_cpu_budget_ends_training_on_training_cpu_time_not_validation_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = CPUClock()
    monkeypatch.setattr(callbacks_module.time, "process_time", clock)
    budget = callbacks_module.CPUBudget(seconds=5)
    summary = RunSummaryWriter(str(tmp_path / "summary.json"))
    trainer = L.Trainer(
        max_steps=1000, val_check_interval=2, limit_val_batches=1, callbacks=[budget, summary],
        logger=False, enable_checkpointing=False, enable_progress_bar=False,
        enable_model_summary=False, default_root_dir=tmp_path,
    )  # fmt: skip
    trainer.fit(ClockedModel(clock))
    # five steps of 1 s each, although validations at steps 2 and 4 spent 20 s more
    assert trainer.global_step == 5 and budget.spent_s() == 5.0
    written = json.loads((tmp_path / "summary.json").read_text())
    assert (written["status"], written["stop_reason"]) == ("completed", "cpu_budget")

    resumed = callbacks_module.CPUBudget(seconds=5)
    resumed.load_state_dict(budget.state_dict())
    assert resumed.spent_s() == 5.0  # a resumed run does not get a fresh budget
