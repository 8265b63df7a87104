"""Training a run: build datamodule, module, callbacks, loggers and trainer from the config,
fit, and print the closing table. `python -m srlab.train` (and the speed bench) call `train`."""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.utilities import rank_zero_only
from omegaconf import DictConfig, OmegaConf

from srlab.models.checkpoint import check_resumable
from srlab.training.distributed import ddp_job
from srlab.training.summary import mark_failed, print_run_table, read_summary
from srlab.utils.hydra import instantiate

log = logging.getLogger(__name__)

# Library notices that say nothing about the run: Lightning's advert for its cloud logger, and a
# deprecation inside Lightning itself (torch's pytree API; nothing of ours to change).
logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
    lambda record: not record.getMessage().startswith("💡 Tip")
)
warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every `_target_` entry of a callbacks/logger group (None entries are off)."""
    if not group:
        return []
    return [instantiate(item) for item in group.values() if item and "_target_" in item]


def build(cfg: DictConfig) -> tuple[L.LightningDataModule, L.LightningModule, L.Trainer]:
    datamodule = instantiate(cfg.data)
    module = instantiate(cfg.module)
    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_group(cfg.get("logger"))
    trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False)
    return datamodule, module, trainer


def log_run_config(trainer: L.Trainer, cfg: DictConfig, module: L.LightningModule) -> None:
    config = OmegaConf.to_container(cfg, resolve=True)
    config["params"] = module.n_params
    for logger in trainer.loggers:
        logger.log_hyperparams(config)
    log.info("%s: %d parameters", type(module.net).__name__, module.n_params)


def train(cfg: DictConfig) -> float | None:
    """Fit, and return the best value of `cfg.optimized_metric` (what sweepers maximize)."""
    summary_path = Path(cfg.paths.output_dir) / "summary.json"
    started = time.time()
    try:
        if cfg.get("seed") is not None:
            L.seed_everything(cfg.seed, workers=True)
        with ddp_job():
            datamodule, module, trainer = build(cfg)
            if cfg.get("ckpt_path"):
                check_resumable(cfg.ckpt_path, module.net, module.net_config)
            log_run_config(trainer, cfg, module)
            trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
    except BaseException as error:
        if rank_zero_only.rank == 0:
            mark_failed(summary_path, error, wall_s=round(time.time() - started, 2))
        raise
    summary = read_summary(summary_path)
    if trainer.is_global_zero:
        print_run_table(summary, scale=cfg.scale)
    return summary.get("metrics", {}).get(cfg.get("optimized_metric"))
