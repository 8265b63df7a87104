"""Inference speed (output megapixels/s) and peak memory, whole images and tiled.

Peak memory is what one forward pass needs on top of what was allocated before it: on CUDA
`torch.cuda.max_memory_allocated` after a reset; on CPU (Linux) the process's peak resident set
(VmHWM) after resetting it to the current one through /proc/self/clear_refs, once glibc has
given freed memory back (malloc_trim), so that reused free memory does not hide the need.
Elsewhere on CPU, no figure (None).
"""

from __future__ import annotations

import contextlib
import ctypes
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor, nn

from srlab.ops.tiling import tiled_forward
from srlab.utils.device import synchronize

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_memory_method(device: torch.device) -> str | None:
    if device.type == "cuda":
        return "torch.cuda.max_memory_allocated above the memory allocated before the pass"
    if cpu_peak_resettable():
        return "peak RSS (VmHWM, reset via /proc/self/clear_refs after malloc_trim) above RSS"
    return None


def cpu_peak_resettable() -> bool:
    try:
        CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _status_kib(field: str) -> int:
    for line in STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in {STATUS}")


def _malloc_trim() -> None:
    """Give the memory glibc keeps after frees back to the system (elsewhere: nothing)."""
    process = ctypes.CDLL(None)  # the symbols already loaded, libc's among them
    if hasattr(process, "malloc_trim"):
        process.malloc_trim(0)


@dataclass
class PeakMemory:
    mib: float | None = None


@contextlib.contextmanager
def measure_peak_memory(device: torch.device) -> Iterator[PeakMemory]:
    """Peak memory of the block above what was in use when it started (see the module doc)."""
    peak = PeakMemory()
    if device.type == "cuda":
        synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        yield peak
        synchronize(device)
        peak.mib = (torch.cuda.max_memory_allocated(device) - before) / 2**20
    elif cpu_peak_resettable():
        _malloc_trim()
        CLEAR_REFS.write_text("5")
        before = _status_kib("VmRSS")
        yield peak
        peak.mib = (_status_kib("VmHWM") - before) / 1024
    else:
        yield peak


@dataclass
class InferenceTiming:
    mp_per_s: float  # output megapixels per second
    peak_mib: float | None


def time_inference(
    forward: Callable[[Tensor], Tensor], lr: Tensor, scale: int, device: torch.device
) -> InferenceTiming:
    """One timed pass of `forward` over `lr` (B, C, h, w), with its peak memory."""
    with measure_peak_memory(device) as peak:
        synchronize(device)
        start = time.perf_counter()
        sr = forward(lr)
        synchronize(device)
        elapsed = time.perf_counter() - start
    output_mp = sr.shape[0] * lr.shape[-2] * lr.shape[-1] * scale**2 / 1e6
    return InferenceTiming(output_mp / elapsed, peak.mib)


def forwards(
    net: nn.Module, scale: int, tile: int, overlap: int, autocast_dtype: torch.dtype | None
) -> dict[str, Callable[[Tensor], Tensor]]:
    """'whole' and 'tiled' inference passes of `net` (eval mode, no autograd)."""

    def run(lr: Tensor, tiled: bool) -> Tensor:
        with (
            torch.inference_mode(),
            torch.autocast(lr.device.type, dtype=autocast_dtype, enabled=bool(autocast_dtype)),
        ):
            if tiled:
                return tiled_forward(net, lr, scale, tile, overlap)
            return net(lr)

    return {"whole": lambda lr: run(lr, False), "tiled": lambda lr: run(lr, True)}
