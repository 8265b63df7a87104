"""Multiruns: one directory per job, W&B runs grouped by sweep and complete, launchers, Optuna."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from conftest import TINY_JOB, JobClock, ValidatedImages, callback_override, run_module
from helpers.images import SET5_NAMES
from helpers.wandb_runs import inspect, wandb_runs
from srlab.compare import compare_runs
from srlab.eval import evaluate
from srlab.utils.hydra import config_dir


def multirun(tmp_path: Path, *overrides: str) -> Path:
    run_module("srlab.train", "-m", *TINY_JOB, *overrides, f"paths.log_dir={tmp_path}")
    (sweep_dir,) = (tmp_path / "train" / "multiruns").iterdir()
    return sweep_dir


def test_multirun_gives_each_job_its_directory_and_summary(sweep: Path) -> None:
    jobs = sorted(p for p in sweep.iterdir() if p.is_dir())
    assert [job.name for job in jobs] == ["0", "1"]
    for job, n_resblocks in zip(jobs, (1, 2), strict=True):
        assert f"model.n_resblocks={n_resblocks}" in (job / ".hydra" / "overrides.yaml").read_text()
        summary = json.loads((job / "summary.json").read_text())
        assert summary["status"] == "completed" and summary["steps"] == 6
        assert (job / "checkpoints" / "last.ckpt").is_file()


def test_wandb_runs_of_a_sweep_share_a_group_and_are_named_by_what_varies(sweep: Path) -> None:
    runs = wandb_runs(sweep.parents[2] / "wandb")
    assert set(runs) == {"n_resblocks=1", "n_resblocks=2"}
    for name, run_dir in runs.items():
        (run_record,) = [r for r in inspect(run_dir, summary=False) if r.get("type") == "run"][:1]
        assert run_record["run"]["run_group"] == sweep.name
        assert run_record["run"]["job_type"] == "sweep"
        assert f"model.{name}" in run_record["run"]["tags"]


def test_wandb_run_holds_config_params_losses_lr_metrics_and_images(sweep: Path) -> None:
    run_dir = wandb_runs(sweep.parents[2] / "wandb")["n_resblocks=2"]
    run = inspect(run_dir)
    summary = json.loads((sweep / "1" / "summary.json").read_text())
    assert run["state"] == "finished"
    assert run["config"]["model"]["n_resblocks"] == 2
    assert run["config"]["params"] == summary["params"]
    assert {"train/loss", "train/loss_l1", "train/lr"} <= set(run["summary"])
    assert run["summary"]["val/Set5/psnr"] == pytest.approx(summary["history"][-1]["val/Set5/psnr"])
    assert run["summary"]["val/comparisons"]["count"] == 2  # LR | bicubic | SR | HR strips
    history = [r for r in inspect(run_dir, summary=False) if r.get("type") == "history"]
    logged_psnr = [r for r in history if "val/Set5/psnr" in json.dumps(r)]
    assert len(logged_psnr) == 2  # one per validation (steps 3 and 6)


def test_joblib_launcher_runs_two_jobs_in_parallel_processes(tmp_path: Path) -> None:
    clocks = tmp_path / "clocks"
    sweep_dir = multirun(
        tmp_path,
        "hydra/launcher=parallel",
        "model.n_resblocks=1,2",
        "data.num_workers=1",  # a DataLoader worker inside a loky job, as data=folder/div2k start
        "logger=csv",
        callback_override("clock", JobClock, folder=clocks, wait_for=2),
    )
    statuses = [json.loads((sweep_dir / n / "summary.json").read_text())["status"] for n in "01"]
    assert statuses == ["completed", "completed"]
    jobs = [json.loads(path.read_text()) for path in clocks.glob("*.json")]  # one per process
    assert len(jobs) == 2, f"the two jobs ran in {len(jobs)} process"
    first, second = sorted(jobs, key=lambda job: job["start"])
    assert second["start"] < first["end"], "the second job started after the first had ended"


def test_optuna_sweeper_maximizes_validation_psnr_over_two_trials(tmp_path: Path) -> None:
    sweep_dir = multirun(
        tmp_path,
        "hparams_search=optuna_psnr",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler.n_startup_trials=1",
        "model.n_resblocks=choice(1,2)",
        "model.n_feats=choice(8)",
        "model.res_scale=choice(1.0)",
        "logger=none",
    )
    results = (sweep_dir / "optimization_results.yaml").read_text()
    best = max(
        json.loads((sweep_dir / n / "summary.json").read_text())["metrics"]["val/Set5/psnr"]
        for n in "01"
    )
    assert f"best_value: {best}" in results


def test_a_failing_job_does_not_stop_the_sweep_which_exits_1_and_compare_marks_it(
    tmp_path: Path,
) -> None:
    sweep = [*TINY_JOB, "data.patch_size=96,51", "logger=none", f"paths.log_dir={tmp_path}"]
    done = run_module("srlab.train", "-m", *sweep, exit_code=1)  # 51: not a multiple of 2
    (sweep_dir,) = (tmp_path / "train" / "multiruns").iterdir()
    assert f"{sweep_dir / '1'}: SRLabError: data.patch_size=51" in done.stderr  # named at the end
    assert done.stdout.startswith(f"sweep directory: {sweep_dir}\n")
    assert f"sweep: 2 job(s) in {sweep_dir}; side by side: python -m srlab.compare" in done.stdout
    summaries = [json.loads((sweep_dir / n / "summary.json").read_text()) for n in "01"]
    assert summaries[0]["status"] == "completed"
    assert summaries[1]["status"] == "failed" and "data.patch_size=51" in summaries[1]["error"]
    compare_runs([sweep_dir], output=tmp_path / "report")
    rows = (tmp_path / "report" / "comparison.csv").read_text().splitlines()
    assert any("failed" in row for row in rows[1:]) and any("completed" in row for row in rows[1:])


def test_ddp_on_two_cpu_processes_with_batch_norm_logs_what_a_single_process_eval_gives(
    tmp_path: Path,
) -> None:
    run_module(
        "srlab.train",
        *TINY_JOB,
        "trainer=ddp",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.max_steps=4",
        "logger=csv",
        "model.n_resblocks=1",
        "model.norm=batch",  # SyncBatchNorm on GPUs; torch has none for CPU processes
        "~trainer.limit_val_batches",
        f"paths.log_dir={tmp_path}",
        callback_override("validated", ValidatedImages, folder=tmp_path / "validated"),
    )
    (run,) = (tmp_path / "train" / "runs").iterdir()  # one directory for both ranks
    assert sorted(p.name for p in run.glob("*.log")) == ["train.log", "train_ddp_process_1.log"]
    assert not list(run.rglob("*/.hydra"))  # the second rank wrote no config of its own
    # Each validation shares Set5 out between the ranks, every image scored once. (Were every
    # image scored on both ranks, the mean would not change: the images are counted.)
    ranks = [json.loads((tmp_path / "validated" / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert list(ranks[0]) == list(ranks[1]) == ["2", "4"]
    for step in ranks[0]:
        names = [rank[step]["names"] for rank in ranks]
        assert all(names) and sorted(names[0] + names[1]) == list(SET5_NAMES), (step, names)
        assert [rank[step]["psnr_images"] for rank in ranks] == [{"Set5": len(n)} for n in names]
        assert [rank[step]["norms"] for rank in ranks] == [["BatchNorm2d"]] * 2
    logged = json.loads((run / "summary.json").read_text())["history"][-1]["val/Set5/psnr"]

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(
            "eval",
            overrides=[
                f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}",
                "data.sets=[Set5]",
                "device=cpu",
                f"paths.output_dir={tmp_path / 'eval'}",
            ],
        )
    assert evaluate(cfg)["Set5"]["psnr"] == pytest.approx(logged, abs=1e-6)
