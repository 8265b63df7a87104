"""`python -m srlab.train ckpt_path=<run>/checkpoints/last.ckpt` (or `ckpt_path=auto
hydra.run.dir=<run>`, what a stopped run prints) resumes that run as it was: a checkpoint's run
directory holds the run's overrides (.hydra/overrides.yaml), so those come first, the command
line's on top, and the run continues in its own directory. A resume whose limits the checkpoint
has already spent (`trainer.max_steps`, `trainer.max_time`) says which, and the override that lifts
it, before it starts."""

from __future__ import annotations

import shlex
from datetime import timedelta
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from srlab.utils.hydra import split_override

NOT_INHERITED = ("ckpt_path", "hydra")


def resume_arguments(argv: list[str]) -> list[str]:
    """The command line, with the checkpoint's run settings and directory added when resuming."""
    if "-m" in argv or "--multirun" in argv:
        return argv
    values = [split_override(arg)[1] for arg in argv if split_override(arg)[0] == "ckpt_path"]
    run_dirs = [value for key, value in map(split_override, argv) if key == "hydra.run.dir"]
    if values and values[-1] == "auto" and run_dirs and run_dirs[-1]:
        run_dir = Path(run_dirs[-1].strip("'\""))  # that run directory's own last.ckpt
    elif not values or values[-1] in (None, "", "auto", "null"):
        return argv
    else:
        run_dir = Path(values[-1]).resolve().parent.parent
    saved = run_dir / ".hydra" / "overrides.yaml"
    if not saved.is_file():
        return argv
    given = {split_override(arg)[0] for arg in argv if "=" in arg}
    inherited = [
        str(override)
        for override in OmegaConf.load(saved)
        if not split_override(override)[0].startswith(NOT_INHERITED)
        and split_override(override)[0] not in given
    ]
    run_dir_given = any(key.startswith("hydra.run.dir") for key in given)
    return inherited + argv + ([] if run_dir_given else [f"hydra.run.dir='{run_dir}'"])


def resume_command(run_dir: str | Path) -> str:
    """The command that resumes the run in `run_dir` from its last.ckpt, as it was."""
    return f"python -m srlab.train ckpt_path=auto {shlex.quote(f'hydra.run.dir={run_dir}')}"


def max_time_seconds(max_time: Any) -> float | None:
    """`trainer.max_time` as Lightning reads it (`DD:HH:MM:SS`, a dict of timedelta's arguments,
    or a timedelta) in seconds; None: no limit."""
    if max_time is None:
        return None
    if isinstance(max_time, timedelta):
        return max_time.total_seconds()
    if isinstance(max_time, str):
        days, hours, minutes, seconds = (int(part) for part in max_time.strip().split(":"))
        return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds).total_seconds()
    arguments = {str(key): value for key, value in max_time.items() if key != "_target_"}
    return timedelta(**arguments).total_seconds()


def spent_limit(ckpt_path: str | Path, max_steps: int | None, max_time: Any) -> str | None:
    """One line when the checkpoint has used up a limit the resumed run keeps: which, and the
    override that lifts it; None when there is training left to do."""
    from srlab.training.callbacks import duration_text
    from srlab.weights.files import read_checkpoint

    checkpoint = read_checkpoint(ckpt_path)
    step = int(checkpoint.get("global_step", 0))
    if max_steps and max_steps > 0 and step >= max_steps:
        return (
            f"nothing to train: {ckpt_path} is at step {step}, trainer.max_steps={max_steps}; "
            f"to train on, pass a larger one (trainer.max_steps={2 * max_steps})"
        )
    limit = max_time_seconds(max_time)
    timer = (checkpoint.get("callbacks") or {}).get("Timer") or {}
    elapsed = (timer.get("time_elapsed") or {}).get("train")
    if limit is not None and elapsed is not None and elapsed >= limit:
        return (
            f"nothing to train: {ckpt_path} has trained for {duration_text(elapsed)}, and "
            f"trainer.max_time={duration_text(limit)} counts the whole run's time; to train on, "
            "pass trainer.max_time=null (or a longer time)"
        )
    return None
