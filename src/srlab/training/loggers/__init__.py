"""The loggers: W&B (the default), TensorBoard and MLflow, each holding the same run (config and
parameter count as hyperparameters, losses, learning rate, validation metrics, comparison
images), named by what the run sets and grouped by sweep. None of them blocks or fails training:
W&B goes offline by itself, TensorBoard only writes local files, and MLflow falls back to its
local store when its tracking server does not answer.

A module per logger (`wandb`, `tensorboard`, `mlflow`); servers are probed in `network`. Each
logger class keeps the comparison images its own way, in its method
`log_sr_images(key, images, captions, step)`, which `callbacks.ComparisonImages` calls on every
logger that has one: a new logger gets the images by defining it. Likewise `log_run_end(summary)`
records how the run ended (its `stop_reason`, steps reached and planned), which
`callbacks.RunSummaryWriter` calls when training ends or a signal stops it.
"""

from __future__ import annotations

import importlib.util
import re

from srlab.utils.errors import SRLabError


def require(package: str, extra: str) -> None:
    """`logger=<extra>` needs `package`, an optional dependency: say how to install it."""
    if importlib.util.find_spec(package) is None:
        raise SRLabError(
            f"logger={extra} needs the {package} package: pip install 'srlab[{extra}]' "
            f"(or pip install {package}), or choose another logger (logger=wandb|csv|none)"
        )


def image_name(caption: str) -> str:
    """`Set5/baby: LR | bicubic | SR | HR` -> `Set5/baby`: what precedes the colon names the
    image (TensorBoard tags and MLflow image keys; MLflow refuses `:` and `|` in a key)."""
    return re.sub(r"[^\w\-./ ]", "_", caption.split(":")[0]).strip()
