"""W&B, the default logger: online only when it can be (an API key and a server that answers),
else offline by itself, its runs kept for `wandb sync`."""

from __future__ import annotations

import logging
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.utilities import rank_zero_only

from srlab.training.loggers.network import reachable
from srlab.training.summary import RunSummary, how_it_ended
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_atomic
from srlab.utils.hydra import sweep_group

log = logging.getLogger(__name__)
MODES = ("auto", "online", "offline")


def base_url() -> str:
    return os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")


def has_api_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    host = urlparse(base_url()).hostname or ""
    return netrc.is_file() and host in netrc.read_text(errors="ignore")


def choose_mode(mode: str) -> tuple[str, str]:
    """(online|offline, why). WANDB_MODE wins over `mode`; `auto` needs a key and the network."""
    env_mode = os.environ.get("WANDB_MODE", "").lower()
    if env_mode in ("offline", "dryrun", "disabled"):
        return "offline", f"WANDB_MODE={env_mode}"
    if mode == "offline":
        return "offline", "logger.wandb.mode=offline"
    if not has_api_key():
        return "offline", "no W&B API key (run `wandb login` to log online)"
    if not reachable(base_url()):
        return "offline", "W&B server unreachable"
    return "online", "API key and network found"


@rank_zero_only
def say_offline(why: str, save_dir: str) -> None:
    """Once per process, and once per sweep: its jobs would all say the same."""
    marker = sweep_marker()
    if why in SAID_OFFLINE or (marker is not None and marker.exists()):
        return
    SAID_OFFLINE.add(why)
    if marker is not None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    log.warning("W&B offline: %s. Runs stay in %s; upload later with `wandb sync`.", why, save_dir)


SAID_OFFLINE: set[str] = set()


def sweep_marker() -> Path | None:
    from hydra.core.hydra_config import HydraConfig

    if not sweep_group() or not HydraConfig.initialized():
        return None
    return Path(HydraConfig.get().sweep.dir) / ".wandb_offline_said"


def run_id(run_dir: str | None) -> str | None:
    """The W&B run id of this run directory, kept in it so that a resumed run continues the
    same W&B run (one curve in the dashboard, not two)."""
    if not run_dir:
        return None
    path = Path(run_dir) / "wandb_run_id"
    if not path.exists():
        write_atomic(path, uuid.uuid4().hex[:12].encode())
    return path.read_text().strip()


class WandbLogger(LightningWandbLogger):
    """Lightning's WandbLogger with `mode=auto` (default): online only when it can be."""

    def __init__(
        self,
        project: str = "srlab",
        save_dir: str = "logs",
        name: str | None = None,
        group: str | None = None,
        job_type: str | None = None,
        tags: list[str] | None = None,
        mode: str = "auto",
        log_model: bool = False,
        run_dir: str | None = None,
    ):
        if mode not in MODES:
            raise SRLabError(f"logger.wandb.mode={mode!r}: choose one of {', '.join(MODES)}")
        chosen, why = choose_mode(mode)
        if chosen == "offline":
            say_offline(why, str(Path(save_dir) / "wandb"))
        Path(save_dir).mkdir(parents=True, exist_ok=True)
        super().__init__(
            project=project,
            save_dir=save_dir,
            name=name,
            group=group,
            job_type=job_type,
            tags=list(tags or []),
            offline=chosen == "offline",
            log_model=log_model,
            settings={"init_timeout": 60, "console": "off", "silent": True},
            id=run_id(run_dir),
            resume="allow",
        )
        self._wandb_init.pop("anonymous", None)  # Lightning passes it; W&B warns it does nothing

    def log_sr_images(
        self, key: str, images: list[np.ndarray], captions: list[str], step: int
    ) -> None:
        """uint8 HWC images as one W&B media panel under `key`, each with its caption."""
        self.log_image(key, images, step=step, caption=captions)

    @rank_zero_only
    def log_run_end(self, summary: RunSummary) -> None:
        """How the run ended, in the run's summary (columns of W&B's runs table)."""
        self.experiment.summary.update(
            {
                "status": str(summary.status),
                "stop_reason": summary.stop_reason,
                "ended": how_it_ended(summary),
                "steps": summary.steps,
                "steps_planned": summary.steps_planned,
            }
        )

    @rank_zero_only
    def finalize(self, status: str) -> None:
        """Close the run: the next job of an in-process sweep must not log into this one."""
        super().finalize(status)
        if self._experiment is not None:
            self._experiment.finish(exit_code=0 if status == "success" else 1)
            self._experiment = None

    @property
    def experiment(self):
        try:
            with user_wandb_mode():
                return super().experiment
        except Exception as error:  # noqa: BLE001 - any W&B failure must not stop training
            if self._offline:
                raise
            say_offline(f"online init failed ({error})", str(Path(self._save_dir) / "wandb"))
            self._offline = True
            self._wandb_init["mode"] = "offline"
            with user_wandb_mode():
                return super().experiment


@contextmanager
def user_wandb_mode():
    """Keep the user's WANDB_MODE: Lightning sets it to "dryrun" for an offline run, which every
    later job of an in-process sweep would then read as the user's choice."""
    before = os.environ.get("WANDB_MODE")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("WANDB_MODE", None)
        else:
            os.environ["WANDB_MODE"] = before
