"""Training a run: build datamodule, module, callbacks, loggers and trainer from the config,
fit, and print the closing table. `python -m srlab.train` (and the speed bench) call `train`."""

from __future__ import annotations

import logging
import shutil
import signal
import time
import warnings
from contextlib import suppress
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from lightning.pytorch.plugins.environments import SLURMEnvironment
from lightning.pytorch.utilities import rank_zero_only
from lightning.pytorch.utilities.exceptions import MisconfigurationException, SIGTERMException
from omegaconf import DictConfig, OmegaConf

from srlab.ops.cost import measure_cost
from srlab.training.distributed import ddp_job
from srlab.training.preemption import RunInterrupted
from srlab.training.resume import resume_command, spent_limit
from srlab.training.summary import (
    SUMMARY_FILE,
    RunStatus,
    RunSummary,
    how_it_ended,
    mark_failed,
    mark_interrupted,
    print_run_table,
)
from srlab.utils.entry import in_multirun
from srlab.utils.errors import SRLabError
from srlab.utils.files import NoSpaceLeft
from srlab.utils.hydra import instantiate
from srlab.utils.memory import keep_freed_blocks
from srlab.utils.typecheck import check_config
from srlab.weights.loading import check_resumable

log = logging.getLogger(__name__)

# Library notices that say nothing about the run: Lightning's advert for its cloud logger, and a
# deprecation inside Lightning itself (torch's pytree API; nothing of ours to change).
logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
    lambda record: not record.getMessage().startswith("💡 Tip")
)
warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
# Step-based runs cross epochs by design: the per-epoch logging interval and mid-epoch resume
# notices do not apply (the sampler reshuffles each epoch; a resume restores the step count).
for notice in (
    r"The number of training batches \(\d+\) is smaller than the logging interval",
    r"You're resuming from a checkpoint that ended before the epoch ended",
    r".*broadcast_buffers.*",
):
    warnings.filterwarnings("ignore", message=notice)
# A resume's notices that do not apply: it continues in its own run directory, whose checkpoints
# are its own (a new run always gets a new directory: conf/hydra/default.yaml); and a Timer's
# state, the training time so far, is left behind only when trainer.max_time is lifted
# (max_time=null), where there is no limit to count it against.
RESUME_NOTICES = (
    r"Checkpoint directory .* exists and is not empty",
    r"Be aware that when using `ckpt_path`.*callbacks: \['Timer'\]",
)


def instantiate_group(group: DictConfig | None) -> list[Any]:
    """Instantiate every `_target_` entry of a callbacks/logger group (None entries are off)."""
    if not group:
        return []
    return [instantiate(item) for item in group.values() if item and "_target_" in item]


def build(cfg: DictConfig) -> tuple[L.LightningDataModule, L.LightningModule, L.Trainer]:
    # The trainer first: a GPU recipe on a machine without one says so before any data error.
    callbacks = instantiate_group(cfg.get("callbacks"))
    loggers = instantiate_group(cfg.get("logger"))
    trainer = build_trainer(cfg, callbacks, loggers)
    datamodule = instantiate(cfg.data)
    module = instantiate(cfg.module)
    return datamodule, module, trainer


def build_trainer(cfg: DictConfig, callbacks: list[Any], loggers: list[Any]) -> L.Trainer:
    """The Trainer; asking for a GPU on a machine without one is a one-line user error."""
    plugins = [instantiate(plugin) for plugin in cfg.trainer.get("plugins") or []]
    if SLURMEnvironment.detect():
        # submitit requeues a pre-empted job (conf/hydra/launcher/slurm.yaml); with Lightning's
        # auto-requeue too, the job would be queued twice.
        plugins.append(SLURMEnvironment(auto_requeue=False))
    try:
        return instantiate(
            cfg.trainer,
            callbacks=callbacks,
            logger=loggers or False,
            plugins=plugins,
            **cpu_batch_norm(cfg.trainer),
        )
    except InstantiationException as error:
        cause = error.__cause__
        if not isinstance(cause, MisconfigurationException) or "gpu" not in str(cause).lower():
            raise
        raise no_gpu(cfg.trainer, str(cause)) from None


def no_gpu(trainer: DictConfig, why: str) -> SRLabError:
    choices = HydraConfig.get().runtime.choices if HydraConfig.initialized() else {}
    return SRLabError(
        f"trainer={choices.get('trainer', trainer.accelerator)}: no GPU here ({why}); "
        "use trainer=cpu (or trainer=ddp trainer.accelerator=cpu for DDP on CPU processes)"
    )


def check_setup(cfg: DictConfig) -> None:
    """The mistakes srlab sees before it builds anything: values of the wrong type, a GPU recipe
    where there is no GPU (build_trainer catches the rest of Lightning's device errors)."""
    check_config(cfg)
    if cfg.trainer.get("accelerator") in ("gpu", "cuda") and not torch.cuda.is_available():
        raise no_gpu(cfg.trainer, "torch.cuda.is_available() is False")


def discard_run_dir(output_dir: Path) -> None:
    """Remove the directory of a run that a config error stopped before it began: it would hold
    Hydra's copy of the config and the log of the failed start only, and `srlab.compare` would
    list it as a run. Never a directory holding anything else (a resumed run's)."""
    if in_multirun() or rank_zero_only.rank != 0 or not output_dir.is_dir():
        return  # a sweep's failed job stays, for the sweep's report to name it
    if all(path.name == ".hydra" or path.suffix == ".log" for path in output_dir.iterdir()):
        shutil.rmtree(output_dir, ignore_errors=True)


def cpu_batch_norm(trainer: DictConfig) -> dict[str, bool]:
    """torch's SyncBatchNorm runs on GPUs only: DDP on CPU processes (trainer=ddp
    trainer.accelerator=cpu) keeps each process's own batch statistics, and says so."""
    accelerator = trainer.get("accelerator")
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())
    if not (trainer.get("sync_batchnorm") and on_cpu):
        return {}
    if rank_zero_only.rank == 0:
        log.info("trainer.sync_batchnorm: off on CPU (SyncBatchNorm needs GPUs); BN per process")
    return {"sync_batchnorm": False}


def log_run_config(trainer: L.Trainer, cfg: DictConfig, module: L.LightningModule) -> None:
    config = OmegaConf.to_container(cfg, resolve=True)
    config["params"] = module.n_params
    config["cost"] = module.cost = net_cost(module, cfg.get("cost") or {})
    for logger in trainer.loggers:
        logger.log_hyperparams(config)
    macs = module.cost["macs"] / 1e9
    shape = "x".join(map(str, module.cost["input"]))
    log.info(
        "%s: %d parameters, %.2f G MACs on a %s input",
        type(module.net).__name__,
        module.n_params,
        macs,
        shape,
    )


def net_cost(module: L.LightningModule, settings: DictConfig | dict) -> dict[str, Any]:
    """What the net costs (srlab.ops.cost), for the summary and the loggers: parameters and
    MACs always; latency and peak memory with cost.latency=true (seconds on a CPU)."""
    return measure_cost(
        module.net,
        module.scale,
        input=settings.get("input", "hd"),
        latency=bool(settings.get("latency", False)),
        warmup=int(settings.get("warmup", 1)),
        repeats=int(settings.get("repeats", 3)),
    ).as_dict()


def resume_from(cfg: DictConfig, output_dir: Path) -> str | None:
    """The checkpoint to resume: `ckpt_path`, or with `auto` (and for the jobs of a sweep run
    again into the same directory) this run directory's last.ckpt when there is one."""
    ckpt_path = cfg.get("ckpt_path")
    if ckpt_path not in ("auto", None):
        return str(ckpt_path)
    if ckpt_path is None and not in_multirun():
        return None
    last = output_dir / "checkpoints" / "last.ckpt"
    return str(last) if last.is_file() else None


def train(cfg: DictConfig) -> float | None:
    """Fit, and return the best value of `cfg.optimized_metric` (what sweepers maximize)."""
    output_dir = Path(cfg.paths.output_dir)
    summary_path = output_dir / SUMMARY_FILE
    previous = RunSummary.read(summary_path)
    if in_multirun() and previous is not None and previous.status == RunStatus.COMPLETED:
        log.info("skipped: %s already completed (summary.json); its files are kept", output_dir)
        return previous.metrics.get(cfg.get("optimized_metric"))
    try:  # outside the try below: a run its config stops writes no summary.json
        check_setup(cfg)
        ckpt_path = resume_from(cfg, output_dir)
        # a sweep run again finishes its jobs as they are (one already at its limits ends at once)
        if ckpt_path and not in_multirun():
            spent = spent_limit(ckpt_path, cfg.trainer.max_steps, cfg.trainer.max_time)
            if spent:  # the resumed run's summary.json stays as it ended
                raise SRLabError(spent)
    except SRLabError:
        discard_run_dir(output_dir)
        raise
    started = time.time()
    log.info("run directory: %s", output_dir)
    keep_freed_blocks()  # before the first step's activations: no page faults every step
    try:
        if cfg.get("seed") is not None:
            L.seed_everything(cfg.seed, workers=True)
        with ddp_job():
            datamodule, module, trainer = build(cfg)
            if ckpt_path:
                check_resumable(ckpt_path, module.net, module.net_config)
                log.info("resuming from %s", ckpt_path)
            log_run_config(trainer, cfg, module)
            with warnings.catch_warnings():
                for notice in RESUME_NOTICES if ckpt_path else ():
                    warnings.filterwarnings("ignore", message=notice)
                trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    except RunInterrupted as stop:
        log.warning("stopped by %s; to resume: %s", stop, resume_hint(output_dir))
        # submitit's requeue; not Python's Ctrl-C handler, whose KeyboardInterrupt is a traceback
        if callable(stop.previous) and stop.previous is not signal.default_int_handler:
            stop.previous(stop.signum, None)
        raise SystemExit(128 + stop.signum) from None
    except SIGTERMException:  # before training started, where only Lightning's handler was set
        log.warning("stopped by SIGTERM before training; to resume: %s", resume_hint(output_dir))
        if rank_zero_only.rank == 0:
            mark_interrupted(summary_path, "SIGTERM")
        raise SystemExit(128 + signal.SIGTERM) from None
    except BaseException as error:
        if rank_zero_only.rank == 0:
            # a disk still full: the error says so, and the next resume rewrites summary.json
            with suppress(NoSpaceLeft):
                mark_failed(summary_path, error, wall_s=round(time.time() - started, 2))
        raise
    summary = RunSummary.read(summary_path)
    if summary is None:  # callbacks without callbacks.run_summary
        return None
    if trainer.is_global_zero and summary.metrics:  # the bench's timed runs validate never
        print_run_table(summary, scale=cfg.scale, run_dir=output_dir)
    if trainer.is_global_zero and summary.stop_reason == "max_time":
        hint = resume_hint(output_dir, "trainer.max_time=null")
        log.warning("%s; to train on: %s", how_it_ended(summary), hint)
    return summary.metrics.get(cfg.get("optimized_metric"))


def resume_hint(output_dir: Path, override: str = "") -> str:
    """The command that resumes this run (with `override`); a sweep's job resumes when its
    sweep is run again."""
    if in_multirun():
        return f"run the same sweep again{f' with {override}' if override else ''}"
    return f"{resume_command(output_dir)} {override}".strip()
