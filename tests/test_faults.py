"""Crash safety: SIGKILL and resume, atomic checkpoints, NaN losses, W&B that cannot be reached."""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import torch

from conftest import REPO_ROOT, compose_train, printed_user_error, run_module
from srlab.train import train
from srlab.training.checkpoints import AtomicCheckpointIO
from srlab.training.loggers import wandb as wandb_logger
from srlab.utils import files
from srlab.utils.errors import SRLabError

NAN_TERM = "+module.loss.terms.nan={_target_:conftest.NaNEveryOtherStep}"


def test_a_nan_loss_stops_the_run_with_a_clear_message_and_a_failed_summary(tmp_path: Path) -> None:
    cfg = compose_train(tmp_path, ["trainer.max_steps=4", "logger=none", NAN_TERM])
    with pytest.raises(SRLabError, match="loss became nan at step 1"):
        train(cfg)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert "module.nan_policy=skip" in summary["error"]


def test_nan_policy_skip_skips_the_bad_batches_and_finishes(tmp_path: Path) -> None:
    cfg = compose_train(
        tmp_path,
        [
            "trainer.max_steps=3",
            "trainer.val_check_interval=3",
            "logger=none",
            NAN_TERM,
            "module.nan_policy=skip",
        ],
    )
    train(cfg)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 3
    assert all(
        torch.isfinite(p).all()
        for p in torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=False)[
            "state_dict"
        ].values()
    )


def test_an_interrupted_save_leaves_the_previous_checkpoint_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"global_step": 1}, path)

    def crash_midway(obj, handle, *args, **kwargs):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt  # the process dies here

    monkeypatch.setattr(torch, "save", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        io.save_checkpoint({"global_step": 2}, path)
    monkeypatch.undo()
    assert torch.load(path, weights_only=False)["global_step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def last_step(checkpoint: Path) -> int:
    try:
        return torch.load(checkpoint, weights_only=False)["global_step"]
    except (FileNotFoundError, EOFError, RuntimeError):
        return -1


def test_a_run_killed_mid_epoch_resumes_to_the_same_total_step_count(tmp_path: Path) -> None:
    overrides = [
        "experiment=quick",
        "model.n_resblocks=1",
        "model.n_feats=8",
        "data.num_workers=0",
        "data.batch_size=4",
        "trainer.max_steps=40",
        "trainer.val_check_interval=20",
        "callbacks.model_checkpoint.every_n_train_steps=2",
        "logger=none",
    ]
    command = [sys.executable, "-m", "srlab.train", *overrides]
    process = subprocess.Popen(
        [*command, f"paths.log_dir={tmp_path / 'a'}"],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 240
        checkpoints = list((tmp_path / "a").glob("train/runs/*/checkpoints/last.ckpt"))
        while time.time() < deadline and not (checkpoints and last_step(checkpoints[0]) >= 4):
            time.sleep(0.2)
            checkpoints = list((tmp_path / "a").glob("train/runs/*/checkpoints/last.ckpt"))
        assert process.poll() is None, "the run finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        process.wait()
    killed_at = last_step(checkpoints[0])
    assert 4 <= killed_at < 40

    run_module("srlab.train", f"ckpt_path={checkpoints[0]}")  # the run's settings and directory
    run = checkpoints[0].parents[1]
    assert json.loads((run / "summary.json").read_text())["steps"] == 40
    assert last_step(run / "checkpoints" / "last.ckpt") == 40


def test_unreachable_wandb_trains_offline_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("WANDB_MODE")
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)  # a key, but no server behind the URL
    monkeypatch.setenv("WANDB_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(wandb_logger, "SAID_OFFLINE", set())  # said by earlier tests, maybe
    cfg = compose_train(tmp_path, ["trainer.max_steps=2", "trainer.val_check_interval=2"])
    with caplog.at_level(logging.WARNING, logger="srlab.training.loggers.wandb"):
        train(cfg)
    offline = [r for r in caplog.records if "W&B offline" in r.getMessage()]
    assert len(offline) == 1 and "unreachable" in offline[0].getMessage()
    # Lightning sets WANDB_MODE=dryrun for an offline run; the next job must not read it as ours
    assert "WANDB_MODE" not in os.environ
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["status"] == "completed"
    assert list((tmp_path / "logs" / "wandb").rglob("offline-run-*/run-*.wandb"))


def test_an_unknown_wandb_mode_is_a_user_error(tmp_path: Path) -> None:
    cfg = compose_train(tmp_path, ["logger.wandb.mode=sometimes"])
    with pytest.raises(SRLabError, match="logger.wandb.mode"):
        train(cfg)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_gpu_recipe_without_a_gpu_names_the_setting_before_any_data_error(tmp_path: Path) -> None:
    done = run_module(
        "srlab.train", "data=div2k", "trainer=gpu", f"paths.data_dir={tmp_path / 'nothing'}",
        f"paths.log_dir={tmp_path}", exit_code=1,
    )  # fmt: skip
    assert done.stderr.strip().splitlines()[-1] == (
        "error: trainer=gpu: no GPU here (torch.cuda.is_available() is False); use trainer=cpu "
        "(or trainer=ddp trainer.accelerator=cpu for DDP on CPU processes)"
    )
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(shutil.which("sbatch") is not None, reason="this machine has SLURM")
def test_the_slurm_launcher_without_slurm_is_one_line(tmp_path: Path) -> None:
    done = run_module(
        "srlab.train", "-m", "hydra/launcher=slurm", "model.n_feats=8,16",
        f"paths.log_dir={tmp_path}", exit_code=1,
    )  # fmt: skip
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "error: hydra/launcher=slurm: no SLURM on this machine (sbatch not found); "
            "use hydra/launcher=parallel"
        )
    )
    assert "Traceback" not in done.stderr


class FullDisk(io.FileIO):
    """A file whose writes fail as they do on a full disk."""

    def write(self, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def fill_disk_after_first_checkpoint(
    monkeypatch: pytest.MonkeyPatch, run_dir: Path, only_checkpoints: bool
) -> None:
    """Once the run's first last.ckpt is written, srlab's writes (or only its checkpoints'
    writes) meet a full disk."""
    last = run_dir / "checkpoints" / "last.ckpt"

    def full_open(file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        checkpoint = Path(file).suffix == ".ckpt"
        if mode == "wb" and last.exists() and (checkpoint or not only_checkpoints):
            return FullDisk(file, mode)
        return open(file, mode, *args, **kwargs)

    monkeypatch.setattr(files, "open", full_open, raising=False)


FULL_DISK_RUN = [
    "trainer.max_steps=4",
    "trainer.val_check_interval=100",
    "callbacks.model_checkpoint.every_n_train_steps=2",  # last.ckpt at step 2, then a full disk
    "logger=none",
]


def test_a_full_disk_is_one_line_naming_the_folder_and_the_checkpoint_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    fill_disk_after_first_checkpoint(monkeypatch, tmp_path / "run", only_checkpoints=True)
    printed = printed_user_error(train, compose_train(tmp_path, FULL_DISK_RUN), "train", capsys)
    folder = tmp_path / "run" / "checkpoints"
    assert "Traceback" not in printed and "During handling" not in printed
    (line,) = [line for line in printed.splitlines() if line.startswith("error:")]
    where = f"error: no space left in {re.escape(str(folder))} for last.ckpt: "
    space = r"[\d.]+ [KMG]iB free, it needs about ([\d.]+) KiB; then resume with ckpt_path=auto"
    needed = re.fullmatch(where + space, line)
    size_kib = (folder / "last.ckpt").stat().st_size / 2**10
    assert needed and float(needed[1]) == pytest.approx(size_kib, rel=0.2)
    assert [p.name for p in folder.iterdir()] == ["last.ckpt"]  # no temp file left
    assert last_step(folder / "last.ckpt") == 2
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"].startswith("NoSpaceLeft: no space")


def test_a_summary_the_full_disk_kept_at_running_is_recorded_at_the_resume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    fill_disk_after_first_checkpoint(monkeypatch, tmp_path / "run", only_checkpoints=False)
    printed = printed_user_error(train, compose_train(tmp_path, FULL_DISK_RUN), "train", capsys)
    (line,) = [line for line in printed.splitlines() if line.startswith("error:")]
    assert "for last.ckpt" in line and "Traceback" not in printed  # not summary.json's error
    summary_path = tmp_path / "run" / "summary.json"
    assert json.loads(summary_path.read_text())["status"] == "running"

    monkeypatch.undo()  # space again
    train(compose_train(tmp_path, [*FULL_DISK_RUN, "ckpt_path=auto"]))
    summary = json.loads(summary_path.read_text())
    assert summary["status"] == "completed" and summary["steps"] == 4
    assert last_step(tmp_path / "run" / "checkpoints" / "last.ckpt") == 4


def test_checkpoints_cut_short_by_a_kill_are_removed_at_the_next_start(tmp_path: Path) -> None:
    folder = tmp_path / "run" / "checkpoints"
    folder.mkdir(parents=True)
    for name in ("last.ckpt", "best-step2.ckpt"):  # named as atomic_writer names its temp files
        fd, _ = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".ckpt")
        os.write(fd, b"half a checkpoint")
        os.close(fd)
    (folder / "notes.txt").write_text("the user's")
    train(compose_train(tmp_path, ["trainer.max_steps=1", "logger=none"]))
    assert sorted(p.name for p in folder.iterdir()) == ["best-step1.ckpt", "last.ckpt", "notes.txt"]
