"""`python -m srlab.bench`: how fast training, data loading, resizing and inference are here.

Writes logs/bench/<time>/results.json and prints a Markdown table: each figure's median and
spread over `repeats` runs, the machine and the configuration (srlab/speed/suite.py).
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig

from srlab.utils.entry import hydra_entry_point

USAGE = "python -m srlab.bench [repeats=5] [train.steps=20] [inference.sizes=[128,256,512]] ..."
EXAMPLES = (
    (
        "python -m srlab.bench                                          # every part: "
        "logs/bench/<time>/"
    ),
    "python -m srlab.bench parts=[resize] repeats=5",
    "python -m srlab.bench parts=[export]",
)


def bench(cfg: DictConfig) -> dict[str, Any]:
    """Measure every part, write results.json, print the Markdown tables, return the results."""
    # Lightning and the nets load here, once the command line is checked
    from srlab.speed.suite import bench as measure

    return measure(cfg)


main = hydra_entry_point("bench", bench, USAGE, __doc__, EXAMPLES)


if __name__ == "__main__":
    main()
