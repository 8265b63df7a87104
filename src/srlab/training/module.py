"""SRModule: the LightningModule that owns the net, its losses, EMA weights and the metrics."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import lightning as L
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from srlab.ops.cost import count_parameters
from srlab.ops.inference import super_resolve
from srlab.training.losses import WeightedLoss
from srlab.training.metrics import PSNR, SSIM
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import partial_config
from srlab.weights.loading import init_weights as load_init_weights


class SRModule(L.LightningModule):
    """Trains `net` on (LR, HR) patches; validates whole images on Y-channel PSNR/SSIM.

    Validation runs `super_resolve`, as `srlab.eval` does. With `ema_decay`, an exponential
    moving average of the weights is kept, validated and saved (it is what eval uses).

    Args:
        net: the net, or (the `model` group, a Hydra partial) what builds it; a partial's config
            is saved in checkpoints so that eval, upscale and export rebuild the net.
        loss: the training loss; its terms are logged as train/loss_<name>.
        optimizer: a partial (Hydra `_partial_: true`) bound here to the net's parameters.
        scale: the SR factor, also the border the metrics shave.
        scheduler: a partial bound to the optimizer, stepped every training step; None: constant.
        ema_decay: keep an EMA of the weights with this decay (e.g. 0.999); None: no EMA.
        nan_policy: `fail` (stop with an error) or `skip` (skip the batch) on a non-finite loss.
        channels_last: NHWC convolutions (faster on CPU and recent GPUs).
        compile: torch.compile the net for training steps.
        n_log_images: comparison strips logged per validation set.
        val_tile: validate large images in tiles of this many LR pixels; None: whole images.
        init_weights: start from these weights (an srlab checkpoint or published weights), for
            fine-tuning; the optimizer and step start fresh (`ckpt_path` resumes instead).
    """

    def __init__(
        self,
        net: Callable[[], nn.Module] | nn.Module,
        loss: WeightedLoss,
        optimizer: functools.partial,
        scale: int,
        scheduler: functools.partial | None = None,
        ema_decay: float | None = None,
        nan_policy: str = "fail",
        channels_last: bool = False,
        compile: bool = False,
        n_log_images: int = 2,
        val_tile: int | None = None,
        init_weights: str | None = None,
    ):
        super().__init__()
        # The net's config (a Hydra partial) is kept: checkpoints carry it so that eval, upscale
        # and export rebuild the net without this run's config.
        self.net_config = partial_config(net) if isinstance(net, functools.partial) else None
        net = net() if self.net_config else net
        if init_weights:
            load_init_weights(net, self.net_config, init_weights)
        if nan_policy not in ("fail", "skip"):
            raise SRLabError(f"module.nan_policy={nan_policy!r}: choose fail or skip")
        self.net = net
        self.loss = loss
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.scale = scale
        self.ema = (
            AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True)
            if ema_decay
            else None
        )
        self.nan_policy = nan_policy
        self.channels_last = channels_last
        self.n_log_images = n_log_images
        self.val_tile = val_tile
        self.val_metrics = nn.ModuleDict()
        self.n_params = count_parameters(net)
        if channels_last:
            self.net.to(memory_format=torch.channels_last)
        # Kept out of the module tree so that checkpoints keep the plain `net.*` keys.
        self.__dict__["train_net"] = torch.compile(self.net) if compile else self.net

    # --- training -------------------------------------------------------------------------
    def forward(self, lr: torch.Tensor) -> torch.Tensor:
        if self.channels_last:
            lr = lr.contiguous(memory_format=torch.channels_last)
        return self.train_net(lr)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor | None:
        sr = self(batch["lr"])
        total, terms = self.loss(sr, batch["hr"])
        if not torch.isfinite(total):
            if self.nan_policy == "skip":
                self.print(
                    f"step {self.global_step}: non-finite loss {total.item()}, batch skipped"
                )
                return None
            raise SRLabError(
                f"loss became {total.item()} at step {self.global_step} "
                f"(terms: { {k: v.item() for k, v in terms.items()} }); lower module.optimizer.lr, "
                "add warm-up, or set module.nan_policy=skip to skip such batches"
            )
        self.log("train/loss", total, prog_bar=True)
        if self.is_logging_step():  # self.log costs ~1 ms a call: only where it is written
            self.log("train/lr", self.trainer.optimizers[0].param_groups[0]["lr"])
            for name, value in terms.items():
                self.log(f"train/loss_{name}", value)
        return total

    def is_logging_step(self) -> bool:
        return (self.global_step + 1) % self.trainer.log_every_n_steps == 0

    def optimizer_step(self, *args: Any, **kwargs: Any) -> None:
        super().optimizer_step(*args, **kwargs)
        # Here, not in on_train_batch_end: callbacks' batch-end hooks run first and save
        # checkpoints (periodic, pre-emption), which must hold this step's EMA.
        if self.ema is not None:
            self.ema.update_parameters(self.net)

    def configure_optimizers(self) -> dict:
        optimizer = self.optimizer_factory(params=self.net.parameters())
        if not self.scheduler_factory:  # module/scheduler=none
            return {"optimizer": optimizer}
        scheduler = self.scheduler_factory(optimizer=optimizer)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    # --- validation -----------------------------------------------------------------------
    @property
    def eval_net(self) -> nn.Module:
        return self.ema.module if self.ema is not None else self.net

    def setup(self, stage: str) -> None:
        # One PSNR/SSIM pair (and the bicubic baseline's) per validation set, named as logged.
        names = getattr(self.trainer.datamodule, "val_names", []) if self._trainer else []
        for name in names:
            if name not in self.val_metrics:
                self.val_metrics[name] = nn.ModuleDict(
                    {
                        "psnr": PSNR(border=self.scale),
                        "ssim": SSIM(border=self.scale),
                        "bicubic_psnr": PSNR(border=self.scale),
                        "bicubic_ssim": SSIM(border=self.scale),
                    }
                )

    def validation_step(self, batch: dict, batch_idx: int, dataloader_idx: int = 0) -> None:
        set_name = list(self.val_metrics)[dataloader_idx]
        sr = super_resolve(self.eval_net, batch["lr"], self.scale, self.val_tile)
        metrics = self.val_metrics[set_name]
        metrics["psnr"].update(sr, batch["hr"])
        metrics["ssim"].update(sr, batch["hr"])
        metrics["bicubic_psnr"].update(batch["bicubic"], batch["hr"])
        metrics["bicubic_ssim"].update(batch["bicubic"], batch["hr"])
        for key, metric in metrics.items():
            self.log(f"val/{set_name}/{key}", metric, add_dataloader_idx=False)
        if batch_idx < self.n_log_images:
            self.comparisons.append((set_name, batch["name"][0], batch, sr))

    def on_validation_epoch_start(self) -> None:
        self.comparisons: list = []
        if self.trainer.world_size > 1:
            # Without SyncBatchNorm (torch has none for DDP on CPU) each rank's batch-norm
            # statistics differ: validate, and checkpoint, their mean on every rank.
            for statistic in batch_norm_statistics({self.net, self.eval_net}):
                statistic.copy_(self.trainer.strategy.reduce(statistic.clone(), reduce_op="mean"))

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["srlab"] = {"net_config": self.net_config, "scale": self.scale}


def batch_norm_statistics(nets: set[nn.Module]) -> list[torch.Tensor]:
    """The running means and variances of the nets' batch-norm layers."""
    layers = [
        m for net in nets for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
    ]
    return [s for m in layers if m.track_running_stats for s in (m.running_mean, m.running_var)]
