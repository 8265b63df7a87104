"""DDP under Hydra: one output directory per job, and sweeps whose jobs each start clean.

Lightning starts DDP ranks 1..N-1 by re-running `sys.argv` with the run directory appended.
In a multirun that re-runs the whole sweep (`-m a=1,2`) into the wrong directory; here each
rank re-runs exactly this job's overrides into this job's output directory, writing no
second `.hydra/`. After the job, the process group and the rank variables Lightning put in
the environment are cleared so that the next job of the sweep launches its own ranks.

On many nodes a launcher (torchrun, SLURM's srun, or the user with NODE_RANK) starts the other
nodes' processes with the first node's command line; given the same `hydra.run.dir`, each of them
too writes only its own log there (`rank_arguments`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

RANK_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE")


def launched_rank() -> tuple[int, int]:
    """(node rank, local rank) as the launcher that started this process set them: torchrun
    (GROUP_RANK, LOCAL_RANK), SLURM's srun (SLURM_NODEID, SLURM_LOCALID) or the user and
    Lightning (NODE_RANK, LOCAL_RANK); (0, 0) where none did."""

    def first(*names: str) -> int:
        return next((int(os.environ[name]) for name in names if os.environ.get(name)), 0)

    return first("GROUP_RANK", "SLURM_NODEID", "NODE_RANK"), first("LOCAL_RANK", "SLURM_LOCALID")


def rank_job_name(node_rank: int, local_rank: int) -> str:
    """The Hydra job name, hence the log file, of a rank other than the first."""
    node = f"node_{node_rank}_" if node_rank else ""
    return f"train_ddp_{node}process_{local_rank}"


def rank_arguments(argv: list[str]) -> list[str]:
    """The command line of a process a launcher started as another rank than the first: its own
    log file and no `.hydra/`, so that global rank 0 alone writes the run directory."""
    node_rank, local_rank = launched_rank()
    named = any(arg.startswith("hydra.job.name=") for arg in argv)  # by `hydra_job_command`
    if (node_rank, local_rank) == (0, 0) or named:
        return argv
    return [
        *argv,
        f"hydra.job.name={rank_job_name(node_rank, local_rank)}",
        "hydra.output_subdir=null",
    ]


def hydra_job_command(local_rank: int) -> tuple[list[str], str]:
    """The command that starts `local_rank` of this Hydra job (on this node), and where."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import get_original_cwd

    hydra_config = HydraConfig.get()
    command = [sys.executable, "-m", "srlab.train", *hydra_config.overrides.task]
    command += [
        f'hydra.run.dir="{hydra_config.runtime.output_dir}"',
        f"hydra.job.name={rank_job_name(launched_rank()[0], local_rank)}",
        "hydra.output_subdir=null",
    ]
    return command, get_original_cwd()


@contextmanager
def ddp_job() -> Iterator[None]:
    # imported here, not above: `rank_arguments` runs before the command line is checked
    import torch.distributed as dist
    from lightning.pytorch.strategies.launchers import subprocess_script

    saved = {name: os.environ.get(name) for name in RANK_VARIABLES}
    original = subprocess_script._hydra_subprocess_cmd
    subprocess_script._hydra_subprocess_cmd = hydra_job_command
    try:
        yield
    finally:
        subprocess_script._hydra_subprocess_cmd = original
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
