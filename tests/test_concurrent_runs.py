"""Runs and sweeps started side by side in one logs/ folder: each has its own directory, and
`srlab.compare` of a sweep sees its own jobs only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.utils import setup_globals
from omegaconf import OmegaConf

from conftest import REPO_ROOT, TINY, subprocess_env
from srlab.compare import compare_runs
from srlab.utils.hydra import config_dir

STAMP = "2026-01-01_00-00-00"


def directories_at_one_second(log_dir: Path) -> dict[str, str]:
    """hydra.run.dir and hydra.sweep.dir of conf/train.yaml, as a process started at STAMP
    resolves them."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        OmegaConf.register_new_resolver("now", lambda pattern: STAMP, replace=True)
        try:
            cfg = compose("train", [f"paths.log_dir={log_dir}"], return_hydra_config=True)
            resolved = {key: cfg.hydra[key].dir for key in ("run", "sweep")}
            assert {key: cfg.hydra[key].dir for key in resolved} == resolved  # made once
            return resolved
        finally:
            setup_globals()  # Hydra's own `now` again


@pytest.mark.parametrize(("directory", "folder"), [("run", "runs"), ("sweep", "multiruns")])
def test_runs_started_in_the_same_second_get_a_directory_each(
    directory: str, folder: str, tmp_path: Path
) -> None:
    # three processes, each composing its own config
    claimed = [directories_at_one_second(tmp_path)[directory] for _ in range(3)]
    parent = tmp_path / "train" / folder
    assert claimed == [str(parent / STAMP), str(parent / f"{STAMP}_2"), str(parent / f"{STAMP}_3")]
    assert all(Path(path).is_dir() for path in claimed)


def start_sweep(log_dir: Path, *overrides: str) -> subprocess.Popen:
    job = [
        "experiment=quick", *TINY, "trainer.max_steps=2", "trainer.val_check_interval=2",
        "++trainer.limit_val_batches=1", "data.repeat=1", "logger=none",
    ]  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "srlab.train", "-m", *job, *overrides, f"paths.log_dir={log_dir}"],
        cwd=REPO_ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def sweep_dir_of(sweep: subprocess.Popen) -> Path:
    stdout, stderr = sweep.communicate(timeout=900)
    assert sweep.returncode == 0, stderr[-3000:]
    first = stdout.splitlines()[0]
    assert first.startswith("sweep directory: ")
    return Path(first.removeprefix("sweep directory: "))


@pytest.mark.slow
def test_a_parallel_sweep_beside_another_keeps_its_jobs_apart(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    other = start_sweep(logs, "model.n_resblocks=2,3")  # sequential, in the same logs/
    parallel = start_sweep(logs, "hydra/launcher=parallel", "model.n_feats=4,5,6,7,8,9,10,11")
    sweeps = {"parallel": sweep_dir_of(parallel), "other": sweep_dir_of(other)}
    assert sweeps["parallel"] != sweeps["other"]
    expected = {
        "parallel": ("model.n_feats", [str(n) for n in range(4, 12)]),
        "other": ("model.n_resblocks", ["2", "3"]),
    }
    for name, sweep_dir in sweeps.items():
        key, values = expected[name]
        comparison = compare_runs([sweep_dir], output=tmp_path / name)
        jobs = [sweep_dir / str(number) for number in range(len(values))]
        assert [run.path for run in comparison.runs] == jobs
        assert [run.setting(key) for run in comparison.runs] == values
        assert {run.status for run in comparison.runs} == {"completed"}
