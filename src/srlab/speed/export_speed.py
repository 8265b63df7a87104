"""onnxruntime against PyTorch on the CPU: images/s of one net over the same images.

The net is exported to a temporary .onnx file (srlab.weights.exporters) and run by `OnnxNet` with
as many threads as torch uses, so that the two differ only in the runtime. Each repeat times one
pass of each over all images, side by side in alternating order (a busy machine slows both
alike), after one untimed warm-up pass of each; the ratio is taken per repeat.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor, nn

from srlab.weights.exporters import export_metadata, export_net
from srlab.weights.onnx_net import OnnxNet


def images_per_s(net: nn.Module, images: Sequence[Tensor]) -> float:
    """One pass over `images` (each float (1, C, h, w)), whole images, no autograd."""
    start = time.perf_counter()
    with torch.inference_mode():
        for lr in images:
            net(lr)
    return len(images) / (time.perf_counter() - start)


def onnx_vs_torch(net: nn.Module, images: Sequence[Tensor], repeats: int) -> dict[str, list[float]]:
    """Per repeat, images/s of PyTorch and of onnxruntime (CPU) and their ratio onnx / torch;
    and the largest |onnx - torch| over every output value (one sample)."""
    net = net.eval().cpu()
    images = [lr.cpu() for lr in images]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "net.onnx"
        export_net(net, path, "onnx", export_metadata(int(net.scale), "net"), None)
        onnx_net = OnnxNet(path, threads=torch.get_num_threads())
        runs = {"torch": net, "onnx": onnx_net}
        for runner in runs.values():
            images_per_s(runner, images)  # warm-up: first-call allocations, lazy init
        samples: dict[str, list[float]] = {"torch": [], "onnx": []}
        for repeat in range(repeats):
            order = ("torch", "onnx") if repeat % 2 == 0 else ("onnx", "torch")
            for name in order:
                samples[name].append(images_per_s(runs[name], images))
        with torch.inference_mode():
            difference = max(float((net(lr) - onnx_net(lr)).abs().max()) for lr in images)
    ratios = [onnx / torch_ for onnx, torch_ in zip(samples["onnx"], samples["torch"], strict=True)]
    return {
        "onnx_over_torch_images_per_s": ratios,
        "onnx_images_per_s": samples["onnx"],
        "torch_images_per_s": samples["torch"],
        "onnx_max_abs_difference": [difference],
    }
