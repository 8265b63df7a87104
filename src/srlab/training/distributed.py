"""DDP under Hydra: one output directory per job, and sweeps whose jobs each start clean.

Lightning starts DDP ranks 1..N-1 by re-running `sys.argv` with the run directory appended.
In a multirun that re-runs the whole sweep (`-m a=1,2`) into the wrong directory; here each
rank re-runs exactly this job's overrides into this job's output directory, writing no
second `.hydra/`. After the job, the process group and the rank variables Lightning put in
the environment are cleared so that the next job of the sweep launches its own ranks.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import torch.distributed as dist
from lightning.pytorch.strategies.launchers import subprocess_script

RANK_VARIABLES = ("MASTER_ADDR", "MASTER_PORT", "LOCAL_RANK", "NODE_RANK", "WORLD_SIZE")


def hydra_job_command(local_rank: int) -> tuple[list[str], str]:
    """The command that starts `local_rank` of this Hydra job, and where to run it."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.utils import get_original_cwd

    hydra_config = HydraConfig.get()
    command = [sys.executable, "-m", "srlab.train", *hydra_config.overrides.task]
    command += [
        f'hydra.run.dir="{hydra_config.runtime.output_dir}"',
        f"hydra.job.name=train_ddp_process_{local_rank}",
        "hydra.output_subdir=null",
    ]
    return command, get_original_cwd()


@contextmanager
def ddp_job() -> Iterator[None]:
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
