"""MLflow: an experiment per sweep, in a tracking server or the local store (one SQLite file);
a server that does not answer gets a warning and the local store."""

from __future__ import annotations

import logging
import warnings
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
from filelock import FileLock
from lightning.pytorch.loggers import MLFlowLogger as LightningMLFlowLogger
from lightning.pytorch.utilities import rank_zero_only

from srlab.training.loggers import image_name, require
from srlab.training.loggers.network import server_answers
from srlab.training.summary import RunSummary, how_it_ended

log = logging.getLogger(__name__)
MODEL_TRAINING_TAG = ("mlflow.experimentKind", "custom_model_development")
# MLflow's SQLite store on SQLAlchemy 2.1: a deprecation inside MLflow, nothing of ours to change.
warnings.filterwarnings("ignore", message=r"The ``noload`` loader strategy is deprecated")


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

    def log_sr_images(
        self, key: str, images: list[np.ndarray], captions: list[str], step: int
    ) -> None:
        """uint8 HWC images, each an image artifact keyed `<key>/<set>/<image>`."""
        for image, caption in zip(images, captions, strict=True):
            self.experiment.log_image(
                self.run_id,
                image,
                key=f"{key}/{image_name(caption)}",
                step=step,
                **self._log_batch_kwargs,  # in the background when a server is used
            )

    @rank_zero_only
    def log_run_end(self, summary: RunSummary) -> None:
        """How the run ended, as tags of the run (columns of MLflow's runs table)."""
        tags = {
            "status": summary.status,
            "stop_reason": summary.stop_reason,
            "ended": how_it_ended(summary),
            "steps_planned": summary.steps_planned,
        }
        for key, value in tags.items():
            if value is not None:
                self.experiment.set_tag(self.run_id, key, str(value))

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
