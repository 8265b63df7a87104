"""What a net costs, measured one way everywhere: parameters, multiply-accumulates for a stated
input, latency and the peak memory of one forward pass.

Conventions (the efficient-SR papers' and the NTIRE challenges'):
- MACs are counted by `torch.utils.flop_counter` (convolutions, transposed convolutions and
  matrix products; a multiply-add counts once: its FLOPs / 2). Pooling, activations, pixel
  shuffles and interpolation are not counted, as in the papers' counters.
- The input is the LR image whose output is 1280 x 720 (`HD_OUTPUT`, the lightweight-SR papers'
  convention: 640 x 360 LR at x2, 427 x 240 at x3, 320 x 180 at x4), or `NTIRE_INPUT` (a
  3 x 256 x 256 LR image) when asked.
- Latency is the median of `repeats` forward passes after `warmup` passes, with the number of
  CPU threads stated; on a GPU each pass is synchronised.
- Peak memory is what one forward pass holds at most beyond its input and weights (the
  allocator's peak on a GPU; on the CPU, the tensors its ops create, alive at once at most).
"""

from __future__ import annotations

import copy
import math
import statistics
import time
import weakref
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from torch.utils.flop_counter import FlopCounterMode

HD_OUTPUT = (720, 1280)  # (H, W) of the SR image: the lightweight-SR papers' convention
NTIRE_INPUT = (256, 256)  # (H, W) of the LR image: the NTIRE efficient-SR challenges'
INPUTS = ("hd", "ntire")


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def lr_size(scale: int, input: str = "hd") -> tuple[int, int]:
    """The LR (H, W) that the convention measures at this scale."""
    if input == "ntire":
        return NTIRE_INPUT
    if input != "hd":
        raise ValueError(f"input={input!r}: choose one of {INPUTS}")
    return (math.ceil(HD_OUTPUT[0] / scale), math.ceil(HD_OUTPUT[1] / scale))


@dataclass(frozen=True)
class Cost:
    """A net's cost; `input` names the LR size its MACs, latency and memory were measured on."""

    params: int
    macs: int
    input: tuple[int, int, int]
    latency_ms: float | None = None
    threads: int | None = None
    device: str = "cpu"
    peak_memory_mb: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "input": list(self.input)}


@torch.no_grad()
def count_macs(net: nn.Module, shape: tuple[int, int, int]) -> int:
    """Multiply-accumulates of one forward pass on a (C, H, W) input (batch 1). Counted on a copy
    on the meta device (shapes only: a 1280 x 720 pass of a deep net would take CPU minutes);
    a net whose forward needs values (MATLAB imresize's index tables) runs for real."""
    try:
        return run_counted(copy.deepcopy(net).to("meta"), shape, torch.device("meta"))
    except (NotImplementedError, RuntimeError):
        return run_counted(net, shape, next_device(net))


def run_counted(net: nn.Module, shape: tuple[int, int, int], device: torch.device) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        net(torch.zeros(1, *shape, device=device))
    return counter.get_total_flops() // 2


def next_device(net: nn.Module) -> torch.device:
    parameter = next(net.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


@torch.inference_mode()
def measure_latency(
    net: nn.Module, shape: tuple[int, int, int], warmup: int = 2, repeats: int = 5
) -> float:
    """Median milliseconds of one forward pass (batch 1) after `warmup` passes."""
    device = next_device(net)
    lr = torch.rand(1, *shape, device=device)
    times = []
    for index in range(warmup + repeats):
        synchronize(device)
        start = time.perf_counter()
        net(lr)
        synchronize(device)
        if index >= warmup:
            times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class AllocationTracker(TorchDispatchMode):
    """The bytes of the tensors that ops create while it is on, alive at once at most: each
    output's storage counts from its creation until its last tensor is gone."""

    def __init__(self) -> None:
        super().__init__()
        self.tensors: dict[int, int] = {}  # storage address -> tensors alive on it
        self.held = self.peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        out = func(*args, **(kwargs or {}))
        for tensor in tree_leaves(out):
            if isinstance(tensor, torch.Tensor):
                self.track(tensor)
        return out

    def track(self, tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        address = storage.data_ptr()
        if address not in self.tensors:
            self.held += storage.nbytes()
            self.peak = max(self.peak, self.held)
        self.tensors[address] = self.tensors.get(address, 0) + 1
        weakref.finalize(tensor, self.release, address, storage.nbytes())

    def release(self, address: int, nbytes: int) -> None:
        self.tensors[address] -= 1
        if not self.tensors[address]:
            del self.tensors[address]
            self.held -= nbytes


@torch.inference_mode()
def peak_memory_mb(net: nn.Module, shape: tuple[int, int, int]) -> float:
    """MB that one forward pass (batch 1) holds at its peak, beyond its input and weights."""
    device = next_device(net)
    lr = torch.rand(1, *shape, device=device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        net(lr)
        return (torch.cuda.max_memory_allocated(device) - before) / 2**20
    tracker = AllocationTracker()
    with tracker:
        net(lr)
    return tracker.peak / 2**20


def measure_cost(
    net: nn.Module,
    scale: int,
    input: str = "hd",
    latency: bool = True,
    warmup: int = 2,
    repeats: int = 5,
) -> Cost:
    """Parameters, MACs and (unless `latency=False`) latency and peak memory of `net` on the
    convention's LR input (`input`: "hd" or "ntire"), in eval mode, where its weights are."""
    training = net.training  # a net about to train must not be left in eval mode (BN)
    net.eval()
    try:
        return cost_of(net, scale, input, latency, warmup, repeats)
    finally:
        net.train(training)


def cost_of(
    net: nn.Module, scale: int, input: str, latency: bool, warmup: int, repeats: int
) -> Cost:
    shape = (3, *lr_size(scale, input))
    device = next_device(net)
    measured: dict[str, Any] = {}
    if latency:
        measured = {
            "latency_ms": round(measure_latency(net, shape, warmup, repeats), 2),
            "threads": torch.get_num_threads() if device.type == "cpu" else None,
            "peak_memory_mb": round(peak_memory_mb(net, shape), 1),
        }
    return Cost(
        params=count_parameters(net),
        macs=count_macs(net, shape),
        input=shape,
        device=str(device),
        **measured,
    )
