"""`python -m srlab.train ckpt_path=<run>/checkpoints/last.ckpt` resumes that run as it was: a
checkpoint's run directory holds the run's overrides (.hydra/overrides.yaml), so those come first,
the command line's on top, and the run continues in its own directory."""

from __future__ import annotations

from pathlib import Path

from omegaconf import OmegaConf

from srlab.utils.hydra import split_override

NOT_INHERITED = ("ckpt_path", "hydra")


def resume_arguments(argv: list[str]) -> list[str]:
    """The command line, with the checkpoint's run settings and directory added when resuming."""
    if "-m" in argv or "--multirun" in argv:
        return argv
    values = [split_override(arg)[1] for arg in argv if split_override(arg)[0] == "ckpt_path"]
    if not values or values[-1] in (None, "", "auto", "null"):
        return argv
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
