"""Shared fixtures: the shared data folder, composed training configs, W&B always offline."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from srlab.utils.hydra import config_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
# A net that trains in seconds: tests check behaviour, not quality.
TINY = ["model.n_resblocks=1", "model.n_feats=8", "data.num_workers=0", "data.batch_size=4"]


@pytest.fixture(autouse=True)
def wandb_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing is ever sent anywhere from a test."""
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return SHARED_DATA


def compose_train(tmp_path: Path, overrides: list[str]) -> DictConfig:
    """conf/train.yaml as the command line would compose it, writing under tmp_path."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            "train",
            overrides=[
                "experiment=quick",
                *TINY,
                f"paths.log_dir={tmp_path / 'logs'}",
                f"paths.output_dir={tmp_path / 'run'}",
                *overrides,
            ],
        )


@pytest.fixture
def image_folders(tmp_path: Path, shared_data: Path) -> tuple[Path, Path]:
    """A training folder (a few Sun80 photos) and a validation folder (two Set5 images and
    Set14's grayscale bridge)."""
    train, val = tmp_path / "train_hr", tmp_path / "my_val"
    train.mkdir()
    val.mkdir()
    for path in sorted((shared_data / "train" / "Sun80").iterdir())[:3]:
        shutil.copy(path, train)
    for name in ("bird.png", "butterfly.png"):
        shutil.copy(shared_data / "benchmarks" / "Set5" / name, val)
    shutil.copy(shared_data / "benchmarks" / "Set14" / "bridge.png", val)  # grayscale
    return train, val


def run_module(module: str, *args: str) -> subprocess.CompletedProcess:
    """`python -m <module> <args>` as a user runs it, W&B offline; a non-zero exit fails."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env={**os.environ, "WANDB_MODE": "offline"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed


TINY_SWEEP = [
    "experiment=quick",
    "model.n_resblocks=1,2",
    "model.n_feats=8",
    "trainer.max_steps=6",
    "trainer.val_check_interval=3",
    "trainer.log_every_n_steps=2",
    "logger=wandb",
    "data.repeat=1",
    "data.num_workers=0",
    "++trainer.limit_val_batches=2",  # 2 of Set5's 5 images: validation is most of the time
]


@pytest.fixture(scope="session")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real `python -m srlab.train -m ...` of 2 tiny jobs, W&B offline; the sweep dir.

    Shared by the sweep, compare and report tests (it is the suite's most expensive fixture).
    """
    log_dir = tmp_path_factory.mktemp("logs")
    run_module("srlab.train", "-m", *TINY_SWEEP, f"paths.log_dir={log_dir}")
    (sweep_dir,) = (log_dir / "train" / "multiruns").iterdir()
    return sweep_dir


class NaNEveryOtherStep(torch.nn.Module):
    """A loss term that is NaN on every second call: a diverging run, on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return sr.new_tensor(float("nan") if self.calls % 2 == 0 else 0.0)
