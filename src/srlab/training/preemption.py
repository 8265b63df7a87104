"""Pre-emption: SIGTERM (SLURM, Kubernetes, docker before a kill), SIGINT (Ctrl-C) and the
SLURM/submitit signals (SIGUSR1, SIGUSR2) save `last.ckpt` at the current step and summary.json
(`status: "interrupted"`), then end the run; `ckpt_path=auto` resumes it.

The handler only records the signal: the state is saved at the end of the step in progress,
where weights, optimizer, scheduler and EMA agree. Under DDP every rank stops at the same step,
whichever got the signal first (or alone): one rank stopping alone would leave the others
waiting in the next step's gradient all-reduce. A handler that was there before (submitit's
requeue) is called after the save, so a cluster job is requeued into the same run directory.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType
from typing import Any

import lightning as L
import torch

from srlab.training.callbacks import RunSummaryWriter
from srlab.training.checkpoints import RunCheckpoint

log = logging.getLogger(__name__)
SIGNALS = ("SIGTERM", "SIGINT", "SIGUSR1", "SIGUSR2")


class RunInterrupted(Exception):
    """The run stopped on a signal after saving its state; `previous` is the handler to call."""

    def __init__(self, signum: int, step: int, previous: Any):
        super().__init__(f"{signal.Signals(signum).name} at step {step}")
        self.signum = signum
        self.step = step
        self.previous = previous


class Preemption(L.Callback):
    def __init__(self, signals: tuple[str, ...] = SIGNALS):
        self.signals = [getattr(signal, name) for name in signals if hasattr(signal, name)]
        self.received: int | None = None
        self.previous: dict[int, Any] = {}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # After Lightning's own SIGTERM handler (registered just before training): that one
        # only sets a flag, and its SIGTERMException at the end of a step would beat our save.
        self.received = None
        for signum in self.signals:
            self.previous[signum] = signal.signal(signum, self.record)

    def record(self, signum: int, frame: FrameType | None) -> None:
        if self.received == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now
        self.received = signum
        log.warning("%s received: saving at the end of this step", signal.Signals(signum).name)

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if trainer.world_size > 1:
            self.received = self.received_on_any_rank(trainer)
        if self.received is None:
            return
        for callback in trainer.callbacks:
            if isinstance(callback, RunCheckpoint):
                callback.save_latest(trainer)
            if isinstance(callback, RunSummaryWriter):
                callback.interrupt(trainer, signal.Signals(self.received).name)
        raise RunInterrupted(self.received, trainer.global_step, self.previous.get(self.received))

    def received_on_any_rank(self, trainer: L.Trainer) -> int | None:
        """The signal one of the ranks received (the highest number, if several), or None."""
        strategy = trainer.strategy
        signum = torch.tensor(self.received or 0, device=strategy.root_device)
        received = int(strategy.reduce(signum, reduce_op="max").item())
        return received or None

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        for signum, handler in self.previous.items():
            if signal.getsignal(signum) == self.record:  # not if Lightning restored its own
                signal.signal(signum, handler)
        self.previous = {}
