"""`python -m srlab.train`: train a residual SR network; Hydra composes conf/train.yaml."""

from __future__ import annotations

from srlab.training.run import train
from srlab.utils.entry import hydra_entry_point

__all__ = ["main", "train"]

main = hydra_entry_point("train", train)


if __name__ == "__main__":
    main()
