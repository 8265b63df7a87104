"""Runs that end well: a final validation, an always-current last.ckpt, pre-emption signals,
ckpt_path=auto, sweeps that resume, typed configs. Real subprocesses and real signals."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn

from conftest import REPO_ROOT
from srlab.training.checkpoints import RunCheckpoint

TINY_RUN = [
    "experiment=quick",
    "model.n_resblocks=1",
    "model.n_feats=8",
    "data.num_workers=0",
    "data.batch_size=4",
    "logger=none",
    "module.ema_decay=0.9",
    "++trainer.limit_val_batches=1",
]


def train_command(*args: str) -> list[str]:
    flags = [arg for arg in args if arg == "-m"]  # Hydra's --multirun goes before overrides
    overrides = [arg for arg in args if arg != "-m"]
    return [sys.executable, "-m", "srlab.train", *flags, *TINY_RUN, *overrides]


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline"}
    done = subprocess.run(
        train_command(*args), cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert not check or done.returncode == 0, done.stderr[-3000:]
    return done


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def checkpoint_step(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


def test_a_run_that_stops_between_validations_ends_measured(tmp_path: Path) -> None:
    run("trainer.max_steps=5", "trainer.val_check_interval=100", f"hydra.run.dir={tmp_path}")
    summary = summary_of(tmp_path)
    assert summary["status"] == "completed" and summary["steps"] == 5
    assert summary["metrics"]["val/Set5/psnr"] > 0 and summary["best_step"] == 5
    assert summary["final_metrics"]["val/Set5/psnr"] == summary["metrics"]["val/Set5/psnr"]
    assert [h["step"] for h in summary["history"]] == [5]
    assert checkpoint_step(tmp_path / "checkpoints" / "last.ckpt") == 5


class WorseEveryValidation(L.LightningModule):
    """A tiny module whose validation metric gets worse each time (10, 9, 8, ...)."""

    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(2, 1)

    def training_step(self, batch, batch_idx):
        return self.layer(batch[0]).square().mean()

    def validation_step(self, batch, batch_idx):
        self.log("val/Set5/psnr", 10.0 - self.global_step)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


class LastCheckpointSteps(L.Callback):
    """The step last.ckpt holds at the start of every training step."""

    def __init__(self, path: Path):
        self.path, self.steps = path, []

    def on_train_batch_start(self, trainer: L.Trainer, *args) -> None:
        self.steps.append(checkpoint_step(self.path) if self.path.exists() else None)


def test_last_checkpoint_is_the_latest_state_when_validation_gets_worse(tmp_path: Path) -> None:
    data = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.randn(64, 2)))
    seen = LastCheckpointSteps(tmp_path / "last.ckpt")
    checkpoint = RunCheckpoint(
        dirpath=tmp_path, filename="best-step{step}", monitor="val/Set5/psnr", mode="max",
        save_top_k=1, save_last=True, auto_insert_metric_name=False,
    )  # fmt: skip
    trainer = L.Trainer(
        max_steps=6, val_check_interval=2, limit_val_batches=1, callbacks=[checkpoint, seen],
        logger=False, enable_progress_bar=False, enable_model_summary=False,
    )  # fmt: skip
    trainer.fit(WorseEveryValidation(), data, data)
    # After each validation (steps 2, 4): Lightning alone keeps last.ckpt at step 2 from then on.
    assert seen.steps == [None, None, 2, 2, 4, 4]
    assert checkpoint_step(tmp_path / "last.ckpt") == 6
    assert [p.name for p in tmp_path.glob("best-*.ckpt")] == ["best-step2.ckpt"]


def wait_for_steps(run_dir: Path, process: subprocess.Popen, steps: int) -> None:
    """Until the run's periodic last.ckpt shows `steps` steps done."""
    last = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.time() + 300
    while time.time() < deadline and process.poll() is None:
        if last.exists() and checkpoint_step(last) >= steps:
            return
        time.sleep(0.2)
    raise AssertionError(f"the run never reached step {steps}")


LONG_RUN = [
    "trainer.max_steps=400",
    "trainer.val_check_interval=1000",
    "callbacks.model_checkpoint.every_n_train_steps=3",
]


def interrupt(run_dir: Path, signum: signal.Signals, *args: str) -> int:
    """Start a long run in run_dir, send `signum` after step 3; the step it saved."""
    env = {**os.environ, "WANDB_MODE": "offline"}
    process = subprocess.Popen(
        train_command(*LONG_RUN, *args, f"hydra.run.dir={run_dir}"), cwd=REPO_ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for_steps(run_dir, process, 3)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signum, stderr[-2000:]
    summary = summary_of(run_dir)
    assert summary["status"] == "interrupted" and summary["signal"] == signum.name
    stopped = summary["steps"]
    assert 3 <= stopped < 400
    assert checkpoint_step(run_dir / "checkpoints" / "last.ckpt") == stopped  # not an older one
    return stopped


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGUSR1, signal.SIGUSR2])
def test_ctrl_c_and_the_slurm_signals_save_the_current_step(tmp_path: Path, signum) -> None:
    interrupt(tmp_path, signum)


def test_sigterm_saves_the_current_step_and_auto_resumes_to_max_steps(tmp_path: Path) -> None:
    stopped = interrupt(tmp_path, signal.SIGTERM)
    end = stopped + 10  # the signal lands a variable number of steps after step 3
    run(*LONG_RUN, f"trainer.max_steps={end}", "ckpt_path=auto", f"hydra.run.dir={tmp_path}")
    final = summary_of(tmp_path)
    assert final["status"] == "completed" and final["steps"] == end
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert state["global_step"] == end
    adam_steps = {float(s["step"]) for s in state["optimizer_states"][0]["state"].values()}
    assert adam_steps == {float(end)}  # the optimizer went on from its saved state
    assert state["lr_schedulers"][0]["last_epoch"] == end
    assert int(state["state_dict"]["ema.n_averaged"]) == end


def test_the_resume_command_a_stopped_run_prints_works_as_printed(tmp_path: Path) -> None:
    env = {**os.environ, "WANDB_MODE": "offline"}
    process = subprocess.Popen(
        train_command(*LONG_RUN, "trainer.max_steps=60", f"hydra.run.dir={tmp_path}"),
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for_steps(tmp_path, process, 3)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=120)
    (printed,) = re.findall(r"to resume: (python -m srlab\.train .*)", stdout + stderr)
    assert printed == f"python -m srlab.train ckpt_path=auto hydra.run.dir={tmp_path}"

    # as printed, from anywhere: the run's own settings (the tiny net, 60 steps) come with it
    command = [sys.executable, *shlex.split(printed)[1:]]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = summary_of(tmp_path)
    assert summary["status"] == "completed" and summary["steps"] == 60


def test_a_sweep_run_again_skips_completed_jobs(tmp_path: Path) -> None:
    sweep = ["-m", "model.n_feats=4,8", "trainer.max_steps=2", f"hydra.sweep.dir={tmp_path}"]
    # a sweep's jobs resume by themselves: a completed one is skipped, files untouched
    run(*sweep)
    summaries = {job: (tmp_path / job / "summary.json") for job in "01"}
    before = {job: path.read_text() for job, path in summaries.items()}
    again = run(*sweep)
    assert again.stderr.count("already completed") + again.stdout.count("already completed") == 2
    assert {job: path.read_text() for job, path in summaries.items()} == before

    # job 1 as a pre-empted job leaves it: the same command resumes it from its last.ckpt
    summaries["1"].write_text(json.dumps({**summary_of(tmp_path / "1"), "status": "interrupted"}))
    again = run(*sweep)
    printed = again.stderr + again.stdout
    assert printed.count("already completed") == 1
    assert f"resuming from {tmp_path / '1' / 'checkpoints' / 'last.ckpt'}" in printed
    assert summary_of(tmp_path / "1")["status"] == "completed"
    assert summaries["0"].read_text() == before["0"]


def test_a_value_of_the_wrong_type_fails_at_once_naming_the_key(tmp_path: Path) -> None:
    for override, message in (
        ("data.batch_size=abc", "data.batch_size='abc' must be a positive integer"),
        ("module.optimizer.lr=-1", "module.optimizer.lr=-1 must be a positive number"),
        ("data.num_workers=-2", "data.num_workers=-2 must be an integer >= 0"),
    ):
        done = run(override, f"hydra.run.dir={tmp_path}", check=False)
        assert done.returncode == 1
        assert f"error: {message}" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_config_error_before_training_leaves_no_run_directory(tmp_path: Path) -> None:
    mistakes = ["data.batch_size=abc"] + ([] if torch.cuda.is_available() else ["trainer=gpu"])
    for mistake in mistakes:
        done = run(mistake, f"paths.log_dir={tmp_path}", check=False)
        assert done.returncode == 1 and "error: " in done.stderr, done.stderr[-2000:]
    assert list((tmp_path / "train" / "runs").iterdir()) == []
