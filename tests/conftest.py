"""Shared fixtures: where the test images are, composed training configs, W&B always offline,
and callbacks that let a test see inside a run (also one started as a subprocess: `run_module`
puts tests/ on its PYTHONPATH, so a config can name `conftest.<Callback>`)."""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from helpers.images import SET5, gray_set5
from srlab.data.io import write_image
from srlab.utils.entry import run_entry_point
from srlab.utils.hydra import config_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = REPO_ROOT / "tests"
# ../shared/data: reference outputs (MATLAB, other projects' files) and more real images (CI has
# it; see its README). SRLAB_SHARED_DATA=<dir> reads it elsewhere; a missing dir shows what skips.
SHARED_DATA = Path(os.environ.get("SRLAB_SHARED_DATA") or REPO_ROOT.parent / "shared" / "data")
BENCHMARKS = SHARED_DATA / "benchmarks"
needs_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"reads {SHARED_DATA} (../shared/data)"
)
# A net that trains in seconds: tests check behaviour, not quality.
TINY = ["model.n_resblocks=1", "model.n_feats=8", "data.num_workers=0", "data.batch_size=4"]


@pytest.fixture(autouse=True)
def logging_as_found() -> Iterator[None]:
    """Each test leaves the root logger's handlers as it found them: an entry point run in-process
    (Hydra's job logging) adds a console handler holding that test's captured stderr, which pytest
    closes, and the next test's log lines would fail on it ("I/O operation on closed file")."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


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
def image_folders(tmp_path: Path) -> tuple[Path, Path]:
    """A training folder (three Set5 photos) and a validation folder (the other two and a
    grayscale photo)."""
    train, val = tmp_path / "train_hr", tmp_path / "my_val"
    train.mkdir()
    val.mkdir()
    for name in ("baby.png", "head.png", "woman.png"):
        shutil.copy(SET5 / name, train)
    for name in ("bird.png", "butterfly.png"):
        shutil.copy(SET5 / name, val)
    write_image(val / "butterfly_gray.png", gray_set5("butterfly"))
    return train, val


def subprocess_env() -> dict[str, str]:
    """The environment of a command a test starts: W&B offline, tests/ importable (so that a
    config may name `conftest.<Callback>`, in every DDP rank and launcher worker too)."""
    path = os.pathsep.join(p for p in (str(TESTS_DIR), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": path}


def run_module(module: str, *args: str, exit_code: int = 0) -> subprocess.CompletedProcess:
    """`python -m <module> <args>` as a user runs it, W&B offline; another exit code fails."""
    completed = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == exit_code, completed.stderr[-3000:]
    return completed


def printed_user_error(function: Any, cfg: DictConfig, command: str, capsys: Any) -> str:
    """What `python -m srlab.<command>` prints when `function(cfg)` meets a user mistake (run
    under the entry point's handler, with the command's usage line; it exits 1)."""
    usage = importlib.import_module(f"srlab.{command}").USAGE
    with pytest.raises(SystemExit) as stopped:
        run_entry_point(function, cfg, usage)
    assert stopped.value.code == 1
    return capsys.readouterr().err


# One tiny job of a sweep: a few seconds, validated once on one Set5 image.
TINY_JOB = [
    "experiment=quick",
    "model.n_feats=8",
    "trainer.max_steps=2",
    "trainer.val_check_interval=2",
    "data.repeat=1",
    "data.num_workers=0",
    "data.batch_size=4",
    "++trainer.limit_val_batches=1",
]
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


def callback_override(name: str, target: type, **arguments: Any) -> str:
    """`+callbacks.<name>={_target_:conftest.<Class>,...}`: one more callback for a run."""
    quoted = {k: f"'{v}'" if isinstance(v, str | Path) else v for k, v in arguments.items()}
    values = "".join(f",{key}:{value}" for key, value in quoted.items())
    return f"+callbacks.{name}={{_target_:conftest.{target.__name__}{values}}}"


class JobClock(L.Callback):
    """Writes this process's pid and the times its fit started and ended to `folder/<pid>.json`.

    With `wait_for`, fit starts only once that many jobs have written their start (or after
    `timeout_s`): jobs launched in parallel are then in fit at the same moment whatever the
    machine's load, and jobs launched one after another cannot overlap.
    """

    def __init__(self, folder: str, wait_for: int = 1, timeout_s: float = 120.0):
        self.folder = Path(folder)
        self.wait_for = wait_for
        self.timeout_s = timeout_s
        self.record: dict[str, Any] = {}

    def write(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / f"{os.getpid()}.json").write_text(json.dumps(self.record))

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.record = {"pid": os.getpid(), "start": time.time()}
        self.write()
        deadline = time.time() + self.timeout_s
        while len(list(self.folder.glob("*.json"))) < self.wait_for and time.time() < deadline:
            time.sleep(0.1)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.record["end"] = time.time()
        self.write()


class ValidatedImages(L.Callback):
    """Per rank, the images each validation scored, the count of images its PSNR metric holds
    (before the ranks are summed) and the net's batch-norm classes: `folder/rank<R>.json` =
    {"<step>": {"names": [...], "psnr_images": {"<set>": n}, "norms": [...]}}."""

    def __init__(self, folder: str):
        self.folder = Path(folder)
        self.validations: dict[str, dict[str, Any]] = {}

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        norms = {
            type(m).__name__
            for m in pl_module.modules()
            if isinstance(m, torch.nn.BatchNorm2d | torch.nn.SyncBatchNorm)
        }
        self.validations[str(trainer.global_step)] = {
            "names": [], "psnr_images": {}, "norms": sorted(norms),
        }  # fmt: skip

    def on_validation_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        this = self.validations[str(trainer.global_step)]
        this["names"] += list(batch["name"])
        for set_name, metrics in pl_module.val_metrics.items():
            this["psnr_images"][set_name] = int(metrics["psnr"].num_images)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"rank{trainer.global_rank}.json"
        path.write_text(json.dumps(self.validations))


class StateAtFirstStep(L.Callback):
    """Saves the module's state dict as the first training step starts: after a resume, what
    the checkpoint restored (before any step changes the weights or the EMA)."""

    def __init__(self, path: str):
        self.path = Path(path)
        self.saved = False

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if not self.saved:
            torch.save(
                {k: v.detach().clone() for k, v in pl_module.state_dict().items()}, self.path
            )
            self.saved = True
