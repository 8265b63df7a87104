"""Which device a command runs on: one rule for eval, upscale, export and the speed figures."""

from __future__ import annotations

import torch

from srlab.utils.errors import SRLabError


def pick_device(device: str) -> torch.device:
    """`auto` (CUDA when there is one, else CPU), or a device name (`cpu`, `cuda`, `cuda:1`)."""
    if device in ("auto", "gpu"):
        if device == "gpu" or torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("cpu")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise SRLabError(
            f"device={device!r} is not a device: use auto, cpu, cuda or cuda:N"
        ) from error


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so that a clock reads what was computed."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
