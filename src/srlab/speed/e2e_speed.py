"""Training end to end, each side in its own process as a user starts it: `python -m srlab.train`
with the bench's overrides (its DataModule, loader, callbacks, loggers and progress bar; a step
clock added) against the plain loop of plain_loop.py, which shares none of srlab's training code,
on the same images, net, optimizer settings and memory format.

Each process writes the clock at the end of every step; steps/s is taken from the end of step
`warmup_steps` to the end of step `warmup_steps + steps`: start-up and teardown are outside,
epoch restarts and logging inside. Validation never runs. Start-up is its own figure: from the
process's launch to the end of its first step (imports, config, data, building the net).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from srlab.speed.train_speed import StepTimer, steady_steps_per_s
from srlab.utils.errors import SRLabError


def srlab_train_command(
    overrides: list[str], train_cfg: DictConfig, run_dir: Path, total_steps: int
) -> list[str]:
    """`python -m srlab.train <overrides>` for `total_steps` steps, a StepTimer among its
    callbacks, no validation, the run in `run_dir`."""
    timer = f"{StepTimer.__module__}.{StepTimer.__name__}"
    command = [
        sys.executable,
        "-m",
        "srlab.train",
        *overrides,
        f"trainer.max_steps={total_steps}",
        f"trainer.val_check_interval={total_steps + 1}",
        "++callbacks.final_validation=null",
        f"+callbacks.step_timer={{_target_:{timer},path:'{run_dir / 'clock.json'}'}}",
        f"hydra.run.dir={run_dir}",
    ]
    if "wandb" in (train_cfg.get("logger") or {}):  # beside the bench's runs, marked as such
        command += [f"logger.wandb.save_dir={run_dir.parent}", "logger.wandb.job_type=bench"]
    return command


def plain_loop_command(
    train_cfg: DictConfig, images: list[Path], run_dir: Path, total_steps: int
) -> list[str]:
    """`python -m srlab.speed.plain_loop job.json` with the train config's net, data sizes,
    optimizer settings and memory format."""
    optimizer = train_cfg.module.optimizer
    job = {
        "model": OmegaConf.to_container(train_cfg.model, resolve=True),
        "images": [str(path) for path in images],
        "scale": int(train_cfg.scale),
        "patch_size": int(train_cfg.data.patch_size),
        "batch_size": int(train_cfg.data.batch_size),
        "steps": total_steps,
        "lr": float(optimizer.lr),
        "betas": list(optimizer.get("betas", (0.9, 0.999))),
        "seed": int(train_cfg.get("seed") or 0),
        "channels_last": bool(train_cfg.module.get("channels_last")),
        "out": str(run_dir / "clock.json"),
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "job.json").write_text(json.dumps(job, indent=1))
    return [sys.executable, "-m", "srlab.speed.plain_loop", str(run_dir / "job.json")]


def timed_process(
    command: list[str], run_dir: Path, warmup_steps: int, steps: int
) -> tuple[float, float]:
    """Run `command` (its output to run_dir/output.log); return its steady steps/s and the
    seconds from its start to the end of its first step (perf_counter is system-wide)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "output.log"
    started = time.perf_counter()
    with log.open("w") as output:
        finished = subprocess.run(command, stdout=output, stderr=subprocess.STDOUT)
    if finished.returncode:
        raise SRLabError(
            f"bench e2e: `{' '.join(command[1:4])} ...` failed (exit {finished.returncode}); "
            f"its output is in {log}"
        )
    clock = json.loads((run_dir / "clock.json").read_text())
    if clock.get("validations"):
        raise SRLabError(f"bench e2e: validation ran inside the timed steps ({log})")
    step_end_s = clock["step_end_s"]
    return steady_steps_per_s(step_end_s, warmup_steps, steps), step_end_s[0] - started
