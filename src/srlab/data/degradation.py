"""LR from HR by the exact protocol: MATLAB imresize bicubic, antialiased, rounded to uint8."""

from __future__ import annotations

import numpy as np

from srlab.ops.imresize import imresize
from srlab.ops.pixels import hwc, planes


def bicubic_downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """uint8 (H, W, C) -> uint8 (H/s, W/s, C), as MATLAB's imresize(hr, 1/s, 'bicubic')."""
    return hwc(imresize(planes(hr), scale=1.0 / scale))


def bicubic_upscale(lr: np.ndarray, scale: int) -> np.ndarray:
    """uint8 (h, w, C) -> uint8 (sh, sw, C): the bicubic baseline the papers report."""
    return hwc(imresize(planes(lr), scale=float(scale)))
