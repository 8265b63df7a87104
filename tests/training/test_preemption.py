"""The pre-emption callback, in process: a SIGTERM that lands anywhere in a step is ours to
save, never Lightning's SIGTERMException (which exits 0 with nothing saved)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn

from srlab.training.callbacks import RunSummaryWriter
from srlab.training.checkpoints import RunCheckpoint
from srlab.training.preemption import Preemption, RunInterrupted


class Tiny(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).square().mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


class SignalAfterStep(L.Callback):
    """Sends SIGTERM to this process at the end of step `step`, after Preemption's own check of
    that step: the window in which Lightning's flag would stop the run first."""

    def __init__(self, step: int):
        self.step = step

    def on_train_batch_end(self, trainer: L.Trainer, *args) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_sigterm_after_our_check_is_saved_at_the_next_step() -> None:
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(64, 2)))
    trainer = L.Trainer(
        max_steps=20, callbacks=[Preemption(), SignalAfterStep(3)], logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(RunInterrupted) as stopped:
        trainer.fit(Tiny(), data)
    assert stopped.value.step == 4 and stopped.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == before  # the handlers are given back


def test_the_signal_saves_last_ckpt_and_the_summary_at_the_step_it_stopped(tmp_path: Path) -> None:
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(64, 2)))
    checkpoint = RunCheckpoint(dirpath=tmp_path, save_top_k=0, save_last=True)
    summary = RunSummaryWriter(str(tmp_path / "summary.json"))
    trainer = L.Trainer(
        max_steps=20, callbacks=[Preemption(), SignalAfterStep(3), checkpoint, summary],
        logger=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    module = Tiny()
    with pytest.raises(RunInterrupted):
        trainer.fit(module, data)
    saved = torch.load(tmp_path / "last.ckpt", weights_only=True)
    assert saved["global_step"] == 4
    assert all(torch.equal(saved["state_dict"][k], v) for k, v in module.state_dict().items())
    written = json.loads((tmp_path / "summary.json").read_text())
    assert (written["status"], written["signal"], written["steps"]) == ("interrupted", "SIGTERM", 4)
