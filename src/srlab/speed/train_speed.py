"""Training steps/s through Lightning (the real `srlab.train.train` path) and through a plain
PyTorch loop, on the same pre-made batches.

Both are timed in steady state: the clock reads at the end of every step, and steps/s is taken
between the end of step `warmup_steps` and the end of step `warmup_steps + steps`. The timed
window holds, per step: fetching the batch (a pre-made one: data loading is measured apart, in
data_speed.py), the forward pass, the loss, the backward pass, the optimizer and scheduler steps,
and, on the Lightning side only, everything Lightning does around them (hooks, `self.log`, the
callbacks, the progress bar, the loggers). It leaves out start-up (building the trainer, W&B
init, the first steps' allocations) and the end of fit (checkpoint, summary.json). Validation
never runs: `val_check_interval` is past the last step.
"""

from __future__ import annotations

import copy
import json
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from omegaconf import DictConfig, open_dict
from torch.utils.data import DataLoader, Dataset

from srlab.speed.common import AUTOCAST_DTYPES
from srlab.utils.device import pick_device, synchronize
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_json
from srlab.utils.hydra import instantiate

Batch = dict[str, torch.Tensor]


class StepTimer(L.Callback):
    """Writes the clock at the end of every training step, and how many validations ran, to
    `path` (JSON) when training ends."""

    def __init__(self, path: str):
        self.path = Path(path)
        self.step_end_s: list[float] = []
        self.validations = 0

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *_: Any) -> None:
        synchronize(pl_module.device)
        self.step_end_s.append(time.perf_counter())

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.validations += 1

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        write_json(self.path, {"step_end_s": self.step_end_s, "validations": self.validations})


class CycledBatches(Dataset):
    """`length` items that are the given batches over and over (a DataLoader with
    batch_size=None hands them out as they are)."""

    def __init__(self, batches: Sequence[Batch], length: int):
        self.batches = batches
        self.length = length

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> Batch:
        return self.batches[index % len(self.batches)]


class PremadeBatches(L.LightningDataModule):
    """Training batches loaded from `path` (a torch.save'd list of {"lr", "hr"} dicts), cycled
    in epochs of `batches_per_epoch` steps, as the real loader's epochs; no validation data."""

    def __init__(self, path: str, batches_per_epoch: int):
        super().__init__()
        self.path = path
        self.batches_per_epoch = batches_per_epoch
        self.batches: list[Batch] = []

    def setup(self, stage: str | None = None) -> None:
        if not self.batches:
            self.batches = torch.load(self.path)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(CycledBatches(self.batches, self.batches_per_epoch), batch_size=None)


def steady_steps_per_s(step_end_s: Sequence[float], warmup_steps: int, steps: int) -> float:
    """Steps/s between the end of step `warmup_steps` and the end of step warmup + steps."""
    if warmup_steps < 1 or steps < 1:
        raise SRLabError(
            f"bench train.warmup_steps={warmup_steps} and train.steps={steps} must both be >= 1"
        )
    if len(step_end_s) < warmup_steps + steps:
        raise RuntimeError(f"{len(step_end_s)} steps timed, {warmup_steps + steps} expected")
    start, end = step_end_s[warmup_steps - 1], step_end_s[warmup_steps + steps - 1]
    return steps / (end - start)


def lightning_config(
    train_cfg: DictConfig,
    run_dir: Path,
    batches_path: Path,
    batches_per_epoch: int,
    warmup_steps: int,
    steps: int,
) -> DictConfig:
    """The training config with the pre-made batches as data (timed_config's run)."""
    cfg = timed_config(train_cfg, run_dir, warmup_steps, steps)
    with open_dict(cfg):
        cfg.data = {
            "_target_": f"{__name__}.PremadeBatches",
            "path": str(batches_path),
            "batches_per_epoch": batches_per_epoch,
        }
    return cfg


def timed_config(train_cfg: DictConfig, run_dir: Path, warmup_steps: int, steps: int) -> DictConfig:
    """The training config for warmup + steps steps with a StepTimer among the callbacks,
    validation never, the run written to `run_dir` (W&B files beside it)."""
    cfg = copy.deepcopy(train_cfg)
    with open_dict(cfg):
        # Resolved now: it names the first validation set of the data config, which may be replaced.
        cfg.optimized_metric = train_cfg.optimized_metric
        cfg.trainer.max_steps = warmup_steps + steps
        cfg.trainer.val_check_interval = warmup_steps + steps + 1
        cfg.callbacks = cfg.get("callbacks") or {}
        cfg.callbacks.pop("final_validation", None)
        cfg.callbacks.step_timer = {
            "_target_": f"{__name__}.StepTimer",
            "path": str(run_dir / "step_times.json"),
        }
        cfg.paths.output_dir = str(run_dir)
        cfg.ckpt_path = None
        wandb = (cfg.get("logger") or {}).get("wandb")
        if wandb:  # named for the bench (not after its command line), files beside the runs
            wandb.update(
                name=f"bench-{run_dir.parent.name}-{run_dir.name}",
                group=None,
                job_type="bench",
                tags=["bench"],
                save_dir=str(run_dir.parent),
            )
    return cfg


def lightning_steps_per_s(cfg: DictConfig, warmup_steps: int, steps: int) -> float:
    """Run `srlab.training.run.train(cfg)` (a config from `lightning_config`) and time its steps."""
    from srlab.training.run import train

    with warnings.catch_warnings():  # the timed runs have no validation by design
        warnings.filterwarnings("ignore", message=r".*but have no `val_dataloader`")
        train(cfg)
    timed = json.loads(Path(cfg.callbacks.step_timer.path).read_text())
    if timed.get("validations"):
        raise RuntimeError("validation ran inside the timed training steps")
    return steady_steps_per_s(timed["step_end_s"], warmup_steps, steps)


def plain_steps_per_s(
    train_cfg: DictConfig, next_batch: Callable[[int], Batch], warmup_steps: int, steps: int
) -> float:
    """The same net, loss, optimizer and scheduler from `train_cfg`, trained by hand on
    `next_batch(step)`."""
    device = pick_device(str(train_cfg.trainer.accelerator))
    precision = str(train_cfg.trainer.precision)
    if precision not in AUTOCAST_DTYPES:
        raise SRLabError(
            f"trainer.precision={precision}: the bench's plain loop supports "
            f"{', '.join(AUTOCAST_DTYPES)}"
        )
    autocast_dtype = AUTOCAST_DTYPES[precision]
    channels_last = bool(train_cfg.module.get("channels_last"))
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    torch.backends.cudnn.benchmark = bool(train_cfg.trainer.get("benchmark"))
    torch.manual_seed(int(train_cfg.get("seed") or 0))

    net = instantiate(train_cfg.model)().to(device, memory_format=memory_format).train()
    loss = instantiate(train_cfg.module.loss).to(device)
    optimizer = instantiate(train_cfg.module.optimizer)(params=net.parameters())
    scheduler_cfg = train_cfg.module.get("scheduler")
    scheduler = instantiate(scheduler_cfg)(optimizer=optimizer) if scheduler_cfg else None

    step_end_s = []
    for step in range(warmup_steps + steps):
        batch = next_batch(step)
        lr = batch["lr"].to(device, non_blocking=True).contiguous(memory_format=memory_format)
        hr = batch["hr"].to(device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
            total, _ = loss(net(lr), hr)
        total.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        synchronize(device)
        step_end_s.append(time.perf_counter())
    return steady_steps_per_s(step_end_s, warmup_steps, steps)
