"""Each of srlab's loggers keeps the comparison images through its own `log_sr_images`, where its
dashboard shows them; ComparisonImages hands the images to every logger that has the method.
(Whole runs through each logger: test_sweeps.py, test_dashboards.py.)"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from lightning.pytorch.loggers import CSVLogger
from omegaconf import OmegaConf
from PIL import Image

from conftest import REPO_ROOT
from helpers.wandb_runs import inspect
from srlab.training.callbacks import ComparisonImages
from srlab.training.summary import RunStatus, RunSummary

KEY = "val/comparisons"
STEP = 3
# Two strips that tell apart by value, and a shape whose HWC and CHW readings differ.
IMAGES = [np.full((12, 40, 3), 50, np.uint8), np.full((12, 40, 3), 200, np.uint8)]
CAPTIONS = ["Set5/baby: LR | bicubic | SR | HR", "Set5/bird: LR | bicubic | SR | HR"]
KEPT = {"Set5/baby": IMAGES[0], "Set5/bird": IMAGES[1]}
ENDED = RunSummary(RunStatus.STOPPED, steps=244, steps_planned=1600, stop_reason="max_time")
ENDED_TEXT = "stopped by trainer.max_time at step 244 of 1600"


def decoded(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def assert_kept(kept: dict[str, np.ndarray]) -> None:
    """Each image under its own name, whole and unchanged."""
    assert sorted(kept) == sorted(KEPT)
    for name, image in kept.items():
        np.testing.assert_array_equal(image, KEPT[name])


def test_wandb_keeps_the_images_in_one_panel_with_their_captions(tmp_path: Path) -> None:
    from srlab.training.loggers.wandb import WandbLogger

    logger = WandbLogger(save_dir=str(tmp_path), name="run", mode="offline")
    logger.log_sr_images(KEY, IMAGES, CAPTIONS, STEP)
    logger.finalize("success")
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    summary = inspect(run_dir)["summary"]
    panel = summary[KEY]
    assert summary["trainer/global_step"] == STEP and panel["captions"] == CAPTIONS
    files = [(run_dir / "files" / name).read_bytes() for name in panel["filenames"]]
    assert_kept(
        {
            caption.split(":")[0]: decoded(data)
            for caption, data in zip(CAPTIONS, files, strict=True)
        }
    )


def test_wandb_keeps_how_the_run_ended_in_its_summary(tmp_path: Path) -> None:
    from srlab.training.loggers.wandb import WandbLogger

    logger = WandbLogger(save_dir=str(tmp_path), name="run", mode="offline")
    logger.log_run_end(ENDED)
    logger.finalize("success")
    (run_dir,) = (tmp_path / "wandb").glob("offline-run-*")
    summary = inspect(run_dir)["summary"]
    assert (summary["status"], summary["stop_reason"], summary["ended"]) == (
        "stopped", "max_time", ENDED_TEXT,
    )  # fmt: skip
    assert (summary["steps"], summary["steps_planned"]) == (244, 1600)


def test_tensorboard_keeps_each_image_under_its_own_tag(tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from srlab.training.loggers.tensorboard import TensorBoardLogger

    logger = TensorBoardLogger(save_dir=str(tmp_path), name="run")
    logger.log_sr_images(KEY, IMAGES, CAPTIONS, STEP)
    logger.finalize("success")
    events = EventAccumulator(logger.log_dir, size_guidance={"images": 0}).Reload()
    kept = {}
    for tag in events.Tags()["images"]:
        (event,) = events.Images(tag)
        assert tag.startswith(f"{KEY}/") and event.step == STEP
        kept[tag.removeprefix(f"{KEY}/")] = decoded(event.encoded_image_string)
    assert_kept(kept)


@pytest.fixture
def mlflow_uri_kept(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Lightning's MLFlowLogger sets MLflow's tracking URI for the whole process (and in
    MLFLOW_TRACKING_URI): later tests must not find this test's store."""
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", os.environ.get("MLFLOW_TRACKING_URI", ""))
    yield
    mlflow.set_tracking_uri(None)  # what it is at the start of a process; monkeypatch: the env


@pytest.mark.usefixtures("mlflow_uri_kept")
def test_mlflow_keeps_each_image_as_an_artifact_of_the_run(tmp_path: Path) -> None:
    from srlab.training.loggers.mlflow import MLFlowLogger

    logger = MLFlowLogger(save_dir=str(tmp_path), run_name="run")
    logger.log_sr_images(KEY, IMAGES, CAPTIONS, STEP)
    client = logger.experiment
    kept = {}
    for artifact in client.list_artifacts(logger.run_id, "images"):
        # images/val~comparisons~Set5~baby+step+3+timestamp+...+<uuid>.png (and a .webp preview)
        name, _, details = Path(artifact.path).name.partition("+")
        if artifact.path.endswith(".png"):
            assert name.startswith(KEY.replace("/", "~") + "~") and f"step+{STEP}+" in details
            local = client.download_artifacts(logger.run_id, artifact.path, str(tmp_path))
            kept[name.removeprefix(KEY.replace("/", "~") + "~").replace("~", "/")] = decoded(
                Path(local).read_bytes()
            )
    logger.finalize("success")
    assert_kept(kept)


@pytest.mark.usefixtures("mlflow_uri_kept")
def test_mlflow_keeps_how_the_run_ended_as_tags_of_the_run(tmp_path: Path) -> None:
    from srlab.training.loggers.mlflow import MLFlowLogger

    logger = MLFlowLogger(save_dir=str(tmp_path), run_name="run")
    logger.log_run_end(ENDED)
    tags = logger.experiment.get_run(logger.run_id).data.tags
    logger.finalize("success")
    assert (tags["status"], tags["stop_reason"], tags["ended"]) == (
        "stopped",
        "max_time",
        ENDED_TEXT,
    )
    assert tags["steps_planned"] == "1600"


def test_every_srlab_logger_config_names_a_class_with_its_own_image_method() -> None:
    """A logger in conf/logger/ that is srlab's keeps images, and how the run ended, by methods
    of its own class (not inherited from Lightning's logger, which has neither)."""
    targets = [
        entry["_target_"]
        for path in sorted((REPO_ROOT / "conf" / "logger").glob("*.yaml"))
        for entry in (OmegaConf.to_container(OmegaConf.load(path)) or {}).values()
        if isinstance(entry, dict) and "_target_" in entry
    ]
    ours = [target for target in targets if target.startswith("srlab.")]
    assert len(ours) == 3  # W&B, TensorBoard, MLflow
    for target in ours:
        module, _, name = target.rpartition(".")
        cls = getattr(__import__(module, fromlist=[name]), name)
        assert "log_sr_images" in vars(cls), f"{target} has no log_sr_images of its own"
        assert "log_run_end" in vars(cls), f"{target} has no log_run_end of its own"


class RecordingLogger(CSVLogger):
    """A logger as a new one would be written: it gets the images by defining the method."""

    def __init__(self, save_dir: str):
        super().__init__(save_dir)
        self.received: list[tuple[str, list[np.ndarray], list[str], int]] = []

    def log_sr_images(
        self, key: str, images: list[np.ndarray], captions: list[str], step: int
    ) -> None:
        self.received.append((key, images, captions, step))


def test_comparison_images_go_to_each_logger_that_keeps_images(tmp_path: Path) -> None:
    hr = torch.rand(1, 3, 16, 16)
    batch = {"lr": hr[..., ::2, ::2], "bicubic": hr * 0.9, "hr": hr}
    module = SimpleNamespace(scale=2, comparisons=[("Set5", "baby", batch, hr * 0.95)])
    recording, csv = RecordingLogger(str(tmp_path)), CSVLogger(str(tmp_path))
    trainer = SimpleNamespace(
        sanity_checking=False, is_global_zero=True, global_step=STEP, loggers=[csv, recording]
    )
    ComparisonImages(str(tmp_path / "images"), crop=8).on_validation_epoch_end(trainer, module)
    ((key, images, captions, step),) = recording.received
    assert (key, captions, step) == (KEY, ["Set5/baby: LR | bicubic | SR | HR"], STEP)
    written = np.asarray(Image.open(tmp_path / "images" / "Set5_baby.png"))
    np.testing.assert_array_equal(images[0], written)
