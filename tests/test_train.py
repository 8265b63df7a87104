"""End-to-end training: run directory contents, W&B offline files, resume, failures, CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch

from conftest import (
    REPO_ROOT,
    TINY,
    StateAtFirstStep,
    callback_override,
    compose_train,
    run_module,
)
from srlab.train import train
from srlab.utils.errors import SRLabError

STEPS = ["trainer.max_steps=4", "trainer.val_check_interval=2"]


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def test_sample_run_writes_checkpoints_summary_and_wandb_offline_files(tmp_path: Path) -> None:
    cfg = compose_train(tmp_path, [*STEPS, "logger=wandb"])
    best_psnr = train(cfg)

    run = tmp_path / "run"
    summary = summary_of(run)
    assert summary["status"] == "completed"
    assert summary["steps"] == 4
    assert summary["params"] > 0
    # the cost (srlab.ops.cost) at the papers' input: the LR of a 1280 x 720 output at x2
    assert summary["cost"]["params"] == summary["params"]
    assert summary["cost"]["input"] == [3, 360, 640]
    assert summary["cost"]["macs"] > summary["params"] * 360 * 640 * 0.9  # convs at LR, mostly
    assert [h["step"] for h in summary["history"]] == [2, 4]
    # train() returns the best validation's PSNR (RunSummaryWriter's choice: test_callbacks.py), and
    # the checkpoint callback, choosing on its own, kept that validation's weights.
    best = max(summary["history"], key=lambda validation: validation["val/Set5/psnr"])
    assert best_psnr == best["val/Set5/psnr"] and summary["best_step"] == best["step"]
    assert 0 < summary["metrics"]["val/Set5/ssim"] <= 1
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert [p.name for p in (run / "checkpoints").glob("best-step*.ckpt")] == [
        f"best-step{best['step']}.ckpt"
    ]
    assert list((run / "images").glob("Set5_*.png"))
    wandb_files = list((tmp_path / "logs" / "wandb").rglob("offline-run-*/run-*.wandb"))
    assert len(wandb_files) == 1 and wandb_files[0].stat().st_size > 0


def test_folder_run_validates_on_the_folder_named_after_itself(
    tmp_path: Path, image_folders: tuple[Path, Path]
) -> None:
    train_dir, val_dir = image_folders
    cfg = compose_train(
        tmp_path,
        [
            *STEPS,
            "logger=csv",
            "data=folder",
            f"data.train_dir={train_dir}",
            f"data.val_dir={val_dir}",
        ],
    )
    train(cfg)
    summary = summary_of(tmp_path / "run")
    assert summary["status"] == "completed"
    assert set(summary["metrics"]) >= {"val/my_val/psnr", "val/my_val/ssim"}
    assert (tmp_path / "run" / "csv" / "metrics.csv").is_file()


def test_resume_continues_from_the_saved_step(tmp_path: Path) -> None:
    first = compose_train(tmp_path / "a", [*STEPS, "logger=none", "module.ema_decay=0.9"])
    train(first)
    last = tmp_path / "a" / "run" / "checkpoints" / "last.ckpt"

    resumed = compose_train(
        tmp_path / "b",
        [
            "trainer.max_steps=6",
            "trainer.val_check_interval=2",
            "logger=none",
            "module.ema_decay=0.9",
            f"ckpt_path={last}",
            callback_override("restored", StateAtFirstStep, path=tmp_path / "restored.pt"),
        ],
    )
    train(resumed)
    # Training went on from the checkpoint's weights, EMA (weights and count) included.
    saved = torch.load(last, weights_only=False)["state_dict"]
    restored = torch.load(tmp_path / "restored.pt", weights_only=False)
    assert set(restored) == set(saved) and "ema.module.head.weight" in saved
    for key, value in saved.items():
        assert torch.equal(restored[key], value), key
    summary = summary_of(tmp_path / "b" / "run")
    assert summary["steps"] == 6
    assert [h["step"] for h in summary["history"]] == [2, 4, 6]  # history carried over
    checkpoint = torch.load(
        tmp_path / "b" / "run" / "checkpoints" / "last.ckpt", weights_only=False
    )
    assert checkpoint["global_step"] == 6
    assert checkpoint["lr_schedulers"][0]["last_epoch"] == 6  # the schedule went on
    assert int(checkpoint["state_dict"]["ema.n_averaged"]) == 6  # and so did the EMA


def test_missing_training_folder_fails_with_a_clear_error_and_failed_summary(
    tmp_path: Path, image_folders: tuple[Path, Path]
) -> None:
    _, val_dir = image_folders
    missing = tmp_path / "nowhere"
    cfg = compose_train(
        tmp_path,
        ["logger=none", "data=folder", f"data.train_dir={missing}", f"data.val_dir={val_dir}"],
    )
    with pytest.raises(SRLabError, match=str(missing)):
        train(cfg)
    summary = summary_of(tmp_path / "run")
    assert summary["status"] == "failed"
    assert str(missing) in summary["error"]


def test_command_line_overrides_work_as_written(tmp_path: Path) -> None:
    overrides = [
        "scale=4",
        "model.n_resblocks=1",
        "model.n_feats=8",
        "model.upsampler=deconv",
        "data.patch_size=96",
        "data.batch_size=4",
        "data.num_workers=2",
        "data.repeat=1",
        "trainer.max_steps=2",
        "trainer.val_check_interval=2",
        "logger=csv",
        "seed=1",
        f"paths.log_dir={tmp_path}",
    ]
    run_module("srlab.train", *overrides)
    (run,) = (tmp_path / "train" / "runs").iterdir()
    assert summary_of(run)["steps"] == 2
    assert "scale=4" in (run / ".hydra" / "overrides.yaml").read_text()

    # Resuming takes only the checkpoint: the run's settings (x4, deconv ...) and directory
    # come with it.
    run_module("srlab.train", "trainer.max_steps=4", f"ckpt_path={run}/checkpoints/last.ckpt")
    assert list((tmp_path / "train" / "runs").iterdir()) == [run]
    assert summary_of(run)["steps"] == 4


def test_a_user_mistake_exits_1_with_a_short_message(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "srlab.train",
        "data=folder",
        f"data.train_dir={tmp_path}/none",
        f"data.val_dir={tmp_path}",
        "logger=none",
        f"paths.log_dir={tmp_path}",
    ]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 1
    assert f"{tmp_path}/none" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_resuming_with_another_net_names_the_settings_that_differ(tmp_path: Path) -> None:
    first = compose_train(tmp_path / "a", ["trainer.max_steps=2", "logger=none"])
    train(first)
    last = tmp_path / "a" / "run" / "checkpoints" / "last.ckpt"
    other = compose_train(tmp_path / "b", ["logger=none", "model.n_feats=16", f"ckpt_path={last}"])
    with pytest.raises(SRLabError, match=r"n_feats=16.*model.n_feats=8"):
        train(other)


def test_an_unknown_config_key_exits_1_with_the_valid_keys(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "srlab.train",
        "model.n_resblock=4",
        f"paths.log_dir={tmp_path}",
    ]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 1
    assert "model.n_resblock" in completed.stderr and "did you mean n_resblocks" in completed.stderr
    assert "Traceback" not in completed.stderr


CUT_SHORT = [
    "trainer.max_steps=100000",
    "trainer.val_check_interval=1000",
    "trainer.max_time=00:00:00:03",
    "++trainer.limit_val_batches=1",
    "+callbacks.time_estimate.after_steps=2",
    "+callbacks.time_estimate.horizon_steps=4",
]


def test_a_run_cut_short_by_max_time_says_so_in_summary_table_log_and_logger(
    tmp_path: Path, capsys: pytest.CaptureFixture, caplog: pytest.LogCaptureFixture
) -> None:
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    cfg = compose_train(tmp_path, [*CUT_SHORT, "logger=tensorboard"])
    with caplog.at_level("WARNING"):
        train(cfg)

    summary = summary_of(tmp_path / "run")
    steps = summary["steps"]
    assert summary["status"] == "stopped" and summary["stop_reason"] == "max_time"
    assert 4 < steps < 100000 and summary["steps_planned"] == 100000
    table = capsys.readouterr().out
    assert f"({steps} of 100000 steps" in table
    assert f"stopped by trainer.max_time at step {steps} of 100000" in table
    said = caplog.text
    assert "trainer.max_time=00:00:00:03 stops this run near step" in said  # after 4 steps
    assert "to train on: python -m srlab.train ckpt_path=auto hydra.run.dir=" in said
    (events,) = (tmp_path / "logs" / "tensorboard").rglob("events.out.tfevents.*")
    texts = EventAccumulator(str(events.parent), size_guidance={"tensors": 0}).Reload()
    (ended,) = texts.Tensors("run/ended/text_summary")
    assert ended.step == steps
    assert b"stopped by trainer.max_time" in ended.tensor_proto.string_val[0]


def test_a_resume_whose_limit_is_spent_names_it_and_the_override_before_starting(
    tmp_path: Path,
) -> None:
    train(compose_train(tmp_path / "a", [*CUT_SHORT, "logger=none"]))
    stopped = tmp_path / "a" / "run"
    before = (stopped / "summary.json").read_text()
    last = f"ckpt_path={stopped}/checkpoints/last.ckpt"
    again = compose_train(tmp_path / "b", [*CUT_SHORT, "logger=none", last])
    with pytest.raises(SRLabError, match=r"trainer.max_time=00:00:00:03.*trainer.max_time=null"):
        train(again)
    assert (stopped / "summary.json").read_text() == before  # still says how it ended
    assert not (tmp_path / "b" / "run" / "summary.json").exists()

    # lifted as the message says, it trains on, in its own directory, without Lightning's
    # notices that do not apply to a resume (the Timer's state, its own checkpoints)
    steps = summary_of(stopped)["steps"]
    lifted = [*CUT_SHORT, "logger=none", last, "trainer.max_time=null"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")  # not pytest's ignore::UserWarning
        train(compose_train(tmp_path / "a", [*lifted, f"trainer.max_steps={steps + 2}"]))
    assert summary_of(stopped)["steps"] == steps + 2
    notices = [str(w.message) for w in caught if "ckpt_path" in str(w.message)]
    notices += [str(w.message) for w in caught if "exists and is not empty" in str(w.message)]
    assert notices == []

    train(compose_train(tmp_path / "c", [*STEPS, "logger=none"]))
    done = f"ckpt_path={tmp_path / 'c' / 'run'}/checkpoints/last.ckpt"
    with pytest.raises(SRLabError, match=r"at step 4, trainer.max_steps=4;.*max_steps=8\)"):
        train(compose_train(tmp_path / "d", [*STEPS, "logger=none", done]))


def test_train_log_has_each_logging_step_and_validation_for_tail_f(tmp_path: Path) -> None:
    run_module(
        "srlab.train", "experiment=quick", *TINY, "trainer.max_steps=4",
        "trainer.val_check_interval=2", "trainer.log_every_n_steps=2", "logger=csv",
        "++trainer.limit_val_batches=1", f"paths.log_dir={tmp_path}",
    )  # fmt: skip
    (run,) = (tmp_path / "train" / "runs").iterdir()
    lines = [line.split(" - ", 1)[1] for line in (run / "train.log").read_text().splitlines()]
    steps = [line for line in lines if line.startswith("step ")]
    assert [line.split(" · ")[0] for line in steps] == ["step 2/4", "step 4/4"]
    for line in steps:
        assert re.fullmatch(
            r"step \d/4 · loss \d\.\d{5} \(l1 \d\.\d{5}\) · lr \d\.\d\de-\d\d · [\d.]+ steps/s"
            r" · ETA \d:\d\d:\d\d",
            line,
        ), line
    validations = [line for line in lines if line.startswith("validation at step ")]
    assert [line.split(":")[0] for line in validations] == [
        "validation at step 2", "validation at step 4",
    ]  # fmt: skip
    assert re.search(r"Set5 PSNR \d+\.\d\d dB SSIM 0\.\d{4} \(bicubic PSNR", validations[0])
