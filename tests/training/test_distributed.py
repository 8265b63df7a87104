"""DDP on many nodes, simulated on this machine: two node ranks of one CPU process each, on the
loopback address, with the environment torchrun gives a multi-node job; and the pieces of it
that need no second process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import lightning as L
import pytest
import torch

from conftest import REPO_ROOT, TINY, ValidatedImages, callback_override, subprocess_env
from helpers.images import SET5_NAMES
from srlab.training.distributed import rank_arguments
from srlab.training.preemption import Preemption, RunInterrupted

LAUNCHER_VARIABLES = ("GROUP_RANK", "SLURM_NODEID", "NODE_RANK", "LOCAL_RANK", "SLURM_LOCALID")


@pytest.fixture
def no_launcher(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in LAUNCHER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_a_rank_a_launcher_started_on_another_node_writes_only_its_own_log(
    no_launcher: pytest.MonkeyPatch,
) -> None:
    no_launcher.setenv("GROUP_RANK", "1")  # torchrun's node rank
    no_launcher.setenv("LOCAL_RANK", "0")
    assert rank_arguments(["model=rcan"]) == [
        "model=rcan", "hydra.job.name=train_ddp_node_1_process_0", "hydra.output_subdir=null",
    ]  # fmt: skip


def test_the_first_rank_and_the_ranks_lightning_starts_keep_their_command_line(
    no_launcher: pytest.MonkeyPatch,
) -> None:
    assert rank_arguments(["model=rcan"]) == ["model=rcan"]
    no_launcher.setenv("LOCAL_RANK", "1")  # named already by `hydra_job_command`
    named = ["model=rcan", "hydra.job.name=train_ddp_process_1", "hydra.output_subdir=null"]
    assert rank_arguments(named) == named


class OtherRankSignalled:
    """A strategy whose all-reduce sees `signum` on another rank."""

    root_device = torch.device("cpu")

    def __init__(self, signum: int):
        self.signum = signum

    def reduce(self, tensor: torch.Tensor, reduce_op: str) -> torch.Tensor:
        assert reduce_op == "max"
        return torch.maximum(tensor, torch.tensor(self.signum))


def test_a_signal_on_another_rank_stops_this_one_at_the_same_step() -> None:
    trainer = SimpleNamespace(world_size=2, global_step=7, callbacks=[])
    preemption = Preemption()
    trainer.strategy = OtherRankSignalled(0)
    preemption.on_train_batch_end(trainer)  # no rank received one: training goes on
    trainer.strategy = OtherRankSignalled(signal.SIGTERM)
    with pytest.raises(RunInterrupted) as stopped:
        preemption.on_train_batch_end(trainer)
    assert (stopped.value.signum, stopped.value.step) == (signal.SIGTERM, 7)


class FirstStep(L.Callback):
    """Writes the step each rank starts training at to `folder/rank<R>.json`."""

    def __init__(self, folder: str):
        self.folder = Path(folder)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"rank{trainer.global_rank}.json"
        path.write_text(json.dumps({"step": trainer.global_step}))


TWO_NODES = [
    "experiment=quick",
    *TINY,
    "trainer=ddp",
    "trainer.accelerator=cpu",
    "trainer.devices=1",
    "trainer.num_nodes=2",
    "trainer.max_steps=400",
    "trainer.val_check_interval=2",
    "callbacks.model_checkpoint.every_n_train_steps=2",
    "logger=csv",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun_environment(node_rank: int, port: int) -> dict[str, str]:
    """What `torchrun --nnodes=2 --nproc-per-node=1 --node-rank=<n> --master-addr=127.0.0.1`
    gives its process, and NODE_RANK (what Lightning's own environment and SLURM-less job
    scripts use)."""
    return {
        "MASTER_ADDR": "127.0.0.1",
        "MASTER_PORT": str(port),
        "WORLD_SIZE": "2",
        "RANK": str(node_rank),
        "GROUP_RANK": str(node_rank),
        "NODE_RANK": str(node_rank),
        "LOCAL_RANK": "0",
        "LOCAL_WORLD_SIZE": "1",
        "TORCHELASTIC_RUN_ID": "srlab-test",
    }


def start_nodes(run_dir: Path, *overrides: str) -> list[subprocess.Popen]:
    port = free_port()
    command = [sys.executable, "-m", "srlab.train", *TWO_NODES, f"hydra.run.dir={run_dir}"]
    environments = [subprocess_env() | torchrun_environment(node, port) for node in (0, 1)]
    return [
        subprocess.Popen(
            [*command, *overrides],
            cwd=REPO_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for environment in environments
    ]


def checkpoint_step(path: Path) -> int:
    return torch.load(path, weights_only=True)["global_step"] if path.is_file() else -1


def finish(nodes: list[subprocess.Popen], timeout: float) -> list[int]:
    """Each node's exit code; a node still running after `timeout` is killed (and fails)."""
    codes = []
    for node in nodes:
        try:
            _, stderr = node.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            node.kill()
            _, stderr = node.communicate()
        codes.append(node.returncode)
        print(stderr[-3000:])  # shown when the test fails
    return codes


def validated_on_shards(folder: Path) -> list[int]:
    """The steps both ranks validated, each scoring its own share of Set5."""
    ranks = [json.loads((folder / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert list(ranks[0]) == list(ranks[1])
    for step in ranks[0]:
        names = [rank[step]["names"] for rank in ranks]
        assert all(names) and sorted(names[0] + names[1]) == list(SET5_NAMES), (step, names)
    return [int(step) for step in ranks[0]]


@pytest.mark.slow
def test_two_nodes_train_into_one_run_directory_and_resume_after_sigterm(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    seen = [callback_override("validated", ValidatedImages, folder=tmp_path / "validated")]
    nodes = start_nodes(run_dir, *seen)
    try:
        deadline = time.time() + 300
        last = run_dir / "checkpoints" / "last.ckpt"
        while checkpoint_step(last) < 4 and time.time() < deadline and nodes[0].poll() is None:
            time.sleep(0.2)
        for node in nodes:  # as SLURM or Kubernetes does at pre-emption: every process
            os.kill(node.pid, signal.SIGTERM)
    finally:
        codes = finish(nodes, timeout=120)
    assert codes == [128 + signal.SIGTERM] * 2
    summary = json.loads((run_dir / "summary.json").read_text())
    stopped = summary["steps"]
    assert summary["status"] == "interrupted" and 4 <= stopped < 400
    assert checkpoint_step(last) == stopped
    # global rank 0 alone writes the run directory; the other node, its own log
    assert sorted(p.name for p in run_dir.glob("*.log")) == [
        "train.log", "train_ddp_node_1_process_0.log",
    ]  # fmt: skip
    assert [p.relative_to(run_dir) for p in run_dir.rglob(".hydra")] == [Path(".hydra")]
    assert validated_on_shards(tmp_path / "validated")[:2] == [2, 4]

    first = tmp_path / "first_step"
    resumed = [
        callback_override("validated", ValidatedImages, folder=tmp_path / "validated_again"),
        f"+callbacks.first_step={{_target_:training.test_distributed.FirstStep,folder:'{first}'}}",
    ]
    nodes = start_nodes(run_dir, "ckpt_path=auto", f"trainer.max_steps={stopped + 4}", *resumed)
    assert finish(nodes, timeout=300) == [0, 0]
    starts = [json.loads((first / f"rank{r}.json").read_text())["step"] for r in (0, 1)]
    assert starts == [stopped, stopped]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == stopped + 4
    assert validated_on_shards(tmp_path / "validated_again")[-1] == stopped + 4
