"""The loggers: W&B (the default), TensorBoard and MLflow, each holding the same run (config and
parameter count as hyperparameters, losses, learning rate, validation metrics, comparison
images), named by what the run sets and grouped by sweep. None of them blocks or fails training:
W&B goes offline by itself, TensorBoard only writes local files, and MLflow falls back to its
local store when its tracking server does not answer."""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import socket
import urllib.error
import urllib.request
import uuid
import warnings
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from filelock import FileLock
from lightning.fabric.utilities.logger import _convert_params, _flatten_dict
from lightning.pytorch.loggers import MLFlowLogger as LightningMLFlowLogger
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger
from lightning.pytorch.loggers import WandbLogger as LightningWandbLogger
from lightning.pytorch.utilities import rank_zero_only

from srlab.utils.errors import SRLabError
from srlab.utils.files import write_atomic
from srlab.utils.hydra import NOISY_OVERRIDE_PREFIXES, sweep_group

log = logging.getLogger(__name__)
MODES = ("auto", "online", "offline")
# Config keys that say where a run writes, not what it is (left out of TensorBoard's HParams).
NOT_SETTINGS = (*NOISY_OVERRIDE_PREFIXES, "trainer.default_root_dir")
MODEL_TRAINING_TAG = ("mlflow.experimentKind", "custom_model_development")
# MLflow's SQLite store on SQLAlchemy 2.1: a deprecation inside MLflow, nothing of ours to change.
warnings.filterwarnings("ignore", message=r"The ``noload`` loader strategy is deprecated")


def require(package: str, extra: str) -> None:
    """`logger=<extra>` needs `package`, an optional dependency: say how to install it."""
    if importlib.util.find_spec(package) is None:
        raise SRLabError(
            f"logger={extra} needs the {package} package: pip install 'srlab[{extra}]' "
            f"(or pip install {package}), or choose another logger (logger=wandb|csv|none)"
        )


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


def run_folder(parent: Path, name: str) -> str:
    """`name` as a folder of `parent` (no `/`, at most 200 characters), `-2`, `-3` ... appended
    when a run of that name is there already: two runs never share event files."""
    base = re.sub(r"[/\\]", "_", name)[:200] or "default"
    folder, count = base, 1
    while (parent / folder).exists():
        count += 1
        folder = f"{base}-{count}"
    return folder


class TensorBoardLogger(LightningTensorBoardLogger):
    """Lightning's TensorBoardLogger, a folder per sweep in `save_dir` (single runs: `runs/`) and
    in it a folder per run, named by what the run sets; the config goes to the HParams tab.

    Args:
        save_dir: the folder of every run (what `python -m srlab.dashboard logger=tensorboard`
            shows).
        group: the sweep (its directory's name); None: a single run.
        name: the run's name (what its sweep varies).
    """

    def __init__(
        self, save_dir: str = "logs/tensorboard", group: str | None = None, name: str = "default"
    ):
        require("tensorboard", "tensorboard")
        folder = group or "runs"
        super().__init__(
            save_dir=save_dir,
            name=folder,
            version=run_folder(Path(save_dir) / folder, name),
            default_hp_metric=False,  # no `hp_metric` placeholder: the table shows real metrics
        )

    @rank_zero_only
    def log_hyperparams(
        self, params: dict[str, Any], metrics: dict[str, Any] | None = None, step: int | None = None
    ) -> None:
        """The config, flattened (`model/n_resblocks`), into the HParams tab."""
        from torch.utils.tensorboard.summary import hparams

        super().log_hyperparams(params)  # kept for hparams.yaml
        if metrics:
            self.log_metrics(metrics, step)
        flat = self._sanitize_params(_flatten_dict(_convert_params(params)))
        # Not where a run writes (paths, callbacks' files, loggers): those differ in every run
        # and would crowd out the settings of a sweep, which TensorBoard shows first.
        flat = {
            key: value
            for key, value in flat.items()
            if not key.replace("/", ".").startswith(NOT_SETTINGS)
        }
        # The session's start only, no experiment summary: TensorBoard then builds the table
        # itself from every run in the log dir (the hparams that differ first) against each run's
        # last value of every scalar (val/Set5/psnr ...), across sweeps whose configs differ.
        _, session_start, _ = hparams(flat, {})
        self.experiment._get_file_writer().add_summary(session_start, step)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        from torch.utils.tensorboard.summary import hparams

        if self._experiment is not None and status == "success":  # the HParams table's status
            _, _, session_end = hparams({}, {})  # (a success; else it stays unknown)
            self._experiment._get_file_writer().add_summary(session_end)
        super().finalize(status)


def local_store_uri(save_dir: str | Path) -> str:
    """MLflow's local store in `save_dir`: one SQLite file, mlflow.db. (MLflow's default store
    since 3.7; its plain-file store refuses to open without an opt-in.)"""
    return f"sqlite:///{Path(save_dir).resolve() / 'mlflow.db'}"


def local_artifact_root(save_dir: str | Path) -> str:
    """Where the local store keeps artifacts (the comparison images): `save_dir`/artifacts."""
    return (Path(save_dir).resolve() / "artifacts").as_uri()


def store_lock(save_dir: str | Path, local: bool) -> AbstractContextManager:
    """Held while the local store may be created or an experiment added to it: the parallel
    jobs of a sweep (hydra/launcher=parallel) would otherwise both create its tables, or the
    sweep's experiment, and all but one fail. Nothing to hold for a server."""
    if not local:
        return nullcontext()
    Path(save_dir).mkdir(parents=True, exist_ok=True)
    return FileLock(Path(save_dir) / "mlflow.db.lock")


def server_answers(uri: str, timeout_s: float) -> bool:
    """An MLflow tracking server at `uri` (http or https) answers within `timeout_s`."""
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=timeout_s):
            return True
    except urllib.error.HTTPError:
        return True  # it answered (a login wall, say): MLflow's own calls will tell the rest
    except (OSError, ValueError):
        return False


@rank_zero_only
def say_local(why: str, save_dir: str) -> None:
    log.warning(
        "MLflow: %s; this run goes to the local store %s instead "
        "(`python -m srlab.dashboard logger=mlflow` shows it).",
        why,
        local_store_uri(save_dir),
    )


class MLFlowLogger(LightningMLFlowLogger):
    """Lightning's MLFlowLogger: an experiment per sweep (`<experiment_name>/<sweep>`; single
    runs: `experiment_name`), a run named by what it sets and tagged with its group, job type and
    overrides. A tracking server that does not answer gets a warning, once, and the run goes to
    the local store in `save_dir`; a server is written to in the background, so that training
    steps never wait for it.

    Args:
        experiment_name: the experiment of single runs; the prefix of sweeps' experiments.
        run_name: the run's name (what its sweep varies).
        group: the sweep (its directory's name); None: a single run.
        job_type: `train` or `sweep`, as a tag.
        tags: the run's overrides, joined into one `overrides` tag.
        tracking_uri: a tracking server (http://host:5000) or store URI; None: the local store.
        save_dir: the local store: mlflow.db and artifacts/.
        timeout_s: how long an http(s) server has to answer before the local store is used.
    """

    def __init__(
        self,
        experiment_name: str = "srlab",
        run_name: str | None = None,
        group: str | None = None,
        job_type: str | None = None,
        tags: list[str] | None = None,
        tracking_uri: str | None = None,
        save_dir: str = "logs/mlflow",
        timeout_s: float = 5.0,
    ):
        require("mlflow", "mlflow")
        self.local_dir = save_dir
        if urlparse(tracking_uri or "").scheme in ("http", "https"):
            if not server_answers(tracking_uri, timeout_s):
                say_local(f"the tracking server {tracking_uri} did not answer", save_dir)
                tracking_uri = None
        run_tags = {"group": group, "job_type": job_type, "overrides": " ".join(tags or [])}
        with store_lock(save_dir, local=not tracking_uri):  # the client creates a new store
            super().__init__(
                experiment_name=f"{experiment_name}/{group}" if group else experiment_name,
                run_name=run_name,
                tracking_uri=tracking_uri or local_store_uri(save_dir),
                tags={key: value for key, value in run_tags.items() if value},
                artifact_location=None if tracking_uri else local_artifact_root(save_dir),
                synchronous=not tracking_uri,
            )

    def is_local(self) -> bool:
        return self._tracking_uri == local_store_uri(self.local_dir)

    @property
    def experiment(self):
        try:
            return self.start()
        except Exception as error:  # noqa: BLE001 - a failing server must not stop training
            if self.is_local():
                raise
            say_local(f"the tracking server failed ({error})", self.local_dir)
            self.use_local_store()
            return self.start()

    def start(self):
        """The client; on first use, the experiment and run are made and the experiment is
        marked as model training (MLflow 3's UI opens other experiments on its GenAI pages)."""
        first_use = not self._initialized
        with store_lock(self.local_dir, local=first_use and self.is_local()):
            client = super().experiment  # of parallel jobs, the first creates the experiment
            if first_use and self._experiment_id is not None:
                client.set_experiment_tag(self._experiment_id, *MODEL_TRAINING_TAG)
        return client

    def use_local_store(self) -> None:
        from mlflow.tracking import MlflowClient

        self._tracking_uri = local_store_uri(self.local_dir)
        with store_lock(self.local_dir, local=True):
            self._mlflow_client = MlflowClient(self._tracking_uri)
        self._artifact_location = local_artifact_root(self.local_dir)
        self._log_batch_kwargs = {"synchronous": True}
        self._experiment_id = self._run_id = None
        self._initialized = False


def image_name(caption: str) -> str:
    """`Set5/baby: LR | bicubic | SR | HR` -> `Set5/baby`: what precedes the colon names the
    image (TensorBoard tags and MLflow image keys; MLflow refuses `:` and `|` in a key)."""
    return re.sub(r"[^\w\-./ ]", "_", caption.split(":")[0]).strip()


def log_images(
    loggers: list[Any], key: str, images: list[np.ndarray], captions: list[str], step: int
) -> None:
    """uint8 HWC images (with captions) to every logger that keeps images."""
    for logger in loggers:
        if isinstance(logger, LightningWandbLogger):
            logger.log_image(key, images, step=step, caption=captions)
        elif isinstance(logger, LightningTensorBoardLogger):
            for image, caption in zip(images, captions, strict=True):
                tag = f"{key}/{image_name(caption)}"
                logger.experiment.add_image(tag, image, step, dataformats="HWC")
        elif isinstance(logger, LightningMLFlowLogger):
            for image, caption in zip(images, captions, strict=True):
                logger.experiment.log_image(
                    logger.run_id,
                    image,
                    key=f"{key}/{image_name(caption)}",
                    step=step,
                    **logger._log_batch_kwargs,  # in the background when a server is used
                )
