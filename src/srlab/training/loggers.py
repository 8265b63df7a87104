"""W&B logger that goes offline by itself: no API key, no network or a failed init never
block or fail training, and nothing is sent unless W&B is reachable with a key."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.utilities import rank_zero_only

from srlab.utils.errors import SRLabError

log = logging.getLogger(__name__)
MODES = ("auto", "online", "offline")


def has_api_key() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname or ""
    return netrc.is_file() and host in netrc.read_text(errors="ignore")


def reachable(timeout_s: float = 2.0) -> bool:
    url = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai"))
    try:
        with socket.create_connection((url.hostname, url.port or 443), timeout=timeout_s):
            return True
    except OSError:
        return False


def choose_mode(mode: str) -> tuple[str, str]:
    """(online|offline, why). WANDB_MODE wins over `mode`; `auto` needs a key and the network."""
    env_mode = os.environ.get("WANDB_MODE", "").lower()
    if env_mode in ("offline", "dryrun", "disabled"):
        return "offline", f"WANDB_MODE={env_mode}"
    if mode == "offline":
        return "offline", "logger.wandb.mode=offline"
    if not has_api_key():
        return "offline", "no W&B API key (run `wandb login` to log online)"
    if not reachable():
        return "offline", "W&B server unreachable"
    return "online", "API key and network found"


@rank_zero_only
def say_offline(why: str, save_dir: str) -> None:
    log.warning("W&B offline: %s. Runs stay in %s; upload later with `wandb sync`.", why, save_dir)


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
        )
        self._wandb_init.pop("anonymous", None)  # Lightning passes it; W&B warns it does nothing

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
            return super().experiment
        except Exception as error:  # noqa: BLE001 - any W&B failure must not stop training
            if self._offline:
                raise
            say_offline(f"online init failed ({error})", str(Path(self._save_dir) / "wandb"))
            self._offline = True
            self._wandb_init["mode"] = "offline"
            return super().experiment


def log_images(
    loggers: list[Any], key: str, images: list[np.ndarray], captions: list[str], step: int
) -> None:
    """uint8 HWC images (with captions) to every logger that keeps images."""
    for logger in loggers:
        if isinstance(logger, LightningWandbLogger):
            logger.log_image(key, images, step=step, caption=captions)
