"""What every measurement shares: the median and spread of repeats, the machine, the device."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path
from typing import Any

import torch


def spread(values: list[float]) -> dict[str, Any]:
    """Median, min/max and quartiles of repeated measurements (quartiles equal the median for
    fewer than two values); the values themselves are kept in run order."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no measurement to summarize")
    median = statistics.median(ordered)
    q1, _, q3 = (
        statistics.quantiles(ordered, n=4, method="inclusive")
        if len(ordered) > 1
        else (median, median, median)
    )
    return {
        "median": median,
        "min": ordered[0],
        "max": ordered[-1],
        "q1": q1,
        "q3": q3,
        "n": len(ordered),
        "values": list(values),
    }


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="ignore").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """The machine a figure was measured on: CPU, cores, threads, versions, GPU, load."""
    import lightning
    import numpy

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = None
    if torch.cuda.is_available():
        gpu = {
            "name": torch.cuda.get_device_name(0),
            "count": torch.cuda.device_count(),
            "memory_gib": round(torch.cuda.get_device_properties(0).total_memory / 2**30, 1),
        }
    return {
        "cpu": cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": usable,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        # OpenMP's spin-waiting decides how much a busy machine slows torch down.
        "env": {
            name: os.environ.get(name)
            for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "MKL_NUM_THREADS")
            if os.environ.get(name) is not None
        },
        "gpu": gpu,
        "load_average_1min": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
    }


# trainer.precision -> the autocast dtype a plain loop needs to do the same arithmetic.
AUTOCAST_DTYPES: dict[str, torch.dtype | None] = {
    "32-true": None,
    "32": None,
    "bf16-mixed": torch.bfloat16,
}
