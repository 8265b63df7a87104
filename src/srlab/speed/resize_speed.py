"""srlab's MATLAB imresize (PyTorch) against its NumPy twin, on the same real images."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from srlab.data.io import list_images, mod_crop, read_image
from srlab.data.sets import BUNDLED_SETS, KNOWN_SETS
from srlab.ops.imresize import imresize
from srlab.ops.imresize_numpy import imresize_numpy
from srlab.utils.hydra import asset_dir

log = logging.getLogger(__name__)


def find_set(name: str, data_dirs: Sequence[str | Path]) -> Path | None:
    """A known set's folder under the first of `data_dirs` that has it; Set5 falls back to the
    bundled copy; None (with a warning) when a set is nowhere."""
    for data_dir in data_dirs:
        for relative in KNOWN_SETS.get(name, ()):
            if (Path(data_dir) / relative).is_dir():
                return Path(data_dir) / relative
    if name in BUNDLED_SETS:
        return Path(asset_dir(name))
    log.warning("resize benchmark: %s not found under %s; skipped", name, ", ".join(data_dirs))
    return None


def load_sets(names: Sequence[str], data_dirs: Sequence[str | Path]) -> dict[str, np.ndarray]:
    """'<set>/<image>' -> uint8 (H, W, C) HR image, for every set found."""
    images = {}
    for name in names:
        folder = find_set(name, data_dirs)
        if folder is not None:
            for path in list_images(folder, f"benchmark set {name}"):
                images[f"{name}/{path.stem}"] = read_image(path)
    return images


@dataclass
class ResizeTiming:
    torch_s: float
    numpy_s: float
    identical: bool


def time_resizes(images: dict[str, np.ndarray], scales: Sequence[int]) -> ResizeTiming:
    """Seconds each implementation takes to downscale every image by every scale (the SR
    degradation: mod-crop, then 1/scale), alternating image by image so that a change in the
    machine's load hits both; and whether every output is bit-identical."""
    return _time(images, [(scale, 1.0 / scale) for scale in scales])


def time_factor(images: dict[str, np.ndarray], factor: float) -> ResizeTiming:
    """time_resizes for `imresize(image, scale=factor)` of each whole image, not mod-cropped:
    a factor such as 0.7, whose weights differ from line to line within a period of 7."""
    return _time(images, [(1, factor)])


def _time(images: dict[str, np.ndarray], resizes: Sequence[tuple[int, float]]) -> ResizeTiming:
    """time_resizes for (mod-crop, imresize scale) pairs."""
    torch_s = numpy_s = 0.0
    identical = True
    for image in images.values():
        for crop, factor in resizes:
            hr = np.array(mod_crop(image, crop), order="C")  # a writable copy for torch
            planes = torch.from_numpy(hr).permute(2, 0, 1)  # (C, H, W)
            start = time.perf_counter()
            ours = imresize(planes, scale=factor).permute(1, 2, 0).numpy()
            torch_s += time.perf_counter() - start
            start = time.perf_counter()
            reference = imresize_numpy(hr, scale=factor)
            numpy_s += time.perf_counter() - start
            identical &= bool(np.array_equal(ours, reference))
    return ResizeTiming(torch_s, numpy_s, identical)


def time_resizes_with_threads(
    images: dict[str, np.ndarray], scales: Sequence[int], threads: int
) -> ResizeTiming:
    """time_resizes with torch limited to `threads` threads (NumPy's loop uses one core, and so
    does torch in a DataLoader worker), the thread count restored after."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return time_resizes(images, scales)
    finally:
        torch.set_num_threads(before)
