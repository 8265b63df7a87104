"""`python -m srlab.train`: train a residual SR network; Hydra composes conf/train.yaml."""

from __future__ import annotations

import sys

from srlab.training.distributed import rank_arguments
from srlab.training.resume import resume_arguments
from srlab.training.run import train
from srlab.utils.entry import hydra_entry_point

__all__ = ["main", "train"]

USAGE = "python -m srlab.train [group=option ...] [key=value ...]"

run = hydra_entry_point("train", train, USAGE, __doc__)


def main() -> None:
    sys.argv[1:] = rank_arguments(resume_arguments(sys.argv[1:]))
    run()


if __name__ == "__main__":
    main()
