"""`python -m srlab.train`: train a residual SR network; Hydra composes conf/train.yaml."""

from __future__ import annotations

import sys

from omegaconf import DictConfig

from srlab.training.distributed import rank_arguments
from srlab.training.resume import resume_arguments
from srlab.utils.entry import hydra_entry_point

__all__ = ["main", "train"]

USAGE = "python -m srlab.train [group=option ...] [key=value ...]"
EXAMPLES = (
    "python -m srlab.train experiment=quick            # make train: a small net, CPU, < 10 min",
    (
        "python -m srlab.train -m experiment=quick trainer.max_steps=100 "
        "model.n_resblocks=2,4  # a sweep"
    ),
    "python -m srlab.train ckpt_path=logs/train/runs/<time>/checkpoints/last.ckpt  # resume a run",
)


def train(cfg: DictConfig) -> float | None:
    """Fit, and return the best value of `cfg.optimized_metric` (srlab.training.run.train)."""
    # Lightning loads here, once the command line is checked: a mistake in it is printed at once
    from srlab.training.run import train as fit

    return fit(cfg)


run = hydra_entry_point("train", train, USAGE, __doc__, EXAMPLES)


def main() -> None:
    sys.argv[1:] = rank_arguments(resume_arguments(sys.argv[1:]))
    run()


if __name__ == "__main__":
    main()
