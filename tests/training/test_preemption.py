"""The pre-emption callback, in process: a SIGTERM that lands anywhere in a step is ours to
save, never Lightning's SIGTERMException (which exits 0 with nothing saved)."""

from __future__ import annotations

import os
import signal

import lightning as L
import pytest
import torch
from torch import nn

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
