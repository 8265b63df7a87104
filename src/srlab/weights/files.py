"""Reading weight files without running their code: PyTorch checkpoints (weights_only),
safetensors and MATLAB `.mat` files. What the tensors mean is `layouts/` and `loading.py`."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from typing import Any

import torch

from srlab.utils.errors import SRLabError
from srlab.weights.matlab import read_mat


def existing_file(path: str | Path | None) -> Path:
    if path is None:
        raise SRLabError(
            "no checkpoint given: pass ckpt_path=<run>/checkpoints/last.ckpt, "
            "or model=bicubic for the bicubic baseline"
        )
    path = Path(path)
    if not path.is_file():
        raise SRLabError(
            f"checkpoint {path} not found; pass ckpt_path=<run>/checkpoints/last.ckpt "
            "(runs are under logs/train/runs/)"
        )
    return path


def read_checkpoint(path: str | Path | None) -> dict[str, Any]:
    path = existing_file(path)
    try:
        # weights_only: unpickling a checkpoint could otherwise run arbitrary code.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError) as error:
        blocked = blocked_global(error)
        if blocked:  # from None: torch's advice, to load it with weights_only=False, runs it
            raise SRLabError(
                f"cannot read checkpoint {path}: it is not a plain weights file (loading it would "
                f"import {blocked}, which srlab never runs); pass a checkpoint of tensors and "
                "plain data as ckpt_path"
            ) from None
        raise SRLabError(
            f"cannot read checkpoint {path} ({load_error_gist(error)}); it is truncated, corrupt "
            "or not a PyTorch checkpoint: pass another ckpt_path"
        ) from error
    if not isinstance(checkpoint, dict):
        raise SRLabError(f"{path} is not a Lightning checkpoint (it holds a {type(checkpoint)})")
    return checkpoint


def blocked_global(error: BaseException) -> str | None:
    """The class or function a weights_only load refused (`GLOBAL posix.system`), if it did."""
    if not isinstance(error, pickle.UnpicklingError):
        return None
    found = re.search(r"GLOBAL ([\w.]+)", str(error))
    return found.group(1) if found else None


def load_error_gist(error: BaseException) -> str:
    """The gist of torch.load's error; a weights_only refusal runs to a page of advice."""
    text = str(error)
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text[text.index(marker) + len(marker) :]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def read_weights(path: str | Path) -> dict[str, Any]:
    """What the file holds, read without running code: safetensors, a MATLAB .mat's arrays,
    else torch.load's dicts."""
    path = Path(path)
    if path.suffix.lower() == ".mat":
        return read_mat(existing_file(path))
    if path.suffix.lower() != ".safetensors":
        return read_checkpoint(path)
    if not path.is_file():
        raise SRLabError(f"weights file {path} not found; pass the path of a .safetensors file")
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(path)
    except (SafetensorError, OSError) as error:
        raise SRLabError(f"cannot read {path} ({error}); pass another weights file") from error
