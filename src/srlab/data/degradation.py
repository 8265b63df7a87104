"""LR from HR by the exact protocol: MATLAB imresize bicubic, antialiased, rounded to uint8."""

from __future__ import annotations

import numpy as np
import torch

from srlab.ops.imresize import imresize


def bicubic_downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """uint8 (H, W, C) -> uint8 (H/s, W/s, C), as MATLAB's imresize(hr, 1/s, 'bicubic')."""
    tensor = torch.from_numpy(np.require(hr, requirements=["C", "W"])).permute(2, 0, 1)
    return imresize(tensor, scale=1.0 / scale).permute(1, 2, 0).numpy()


def bicubic_upscale(lr: np.ndarray, scale: int) -> np.ndarray:
    """uint8 (h, w, C) -> uint8 (sh, sw, C): the bicubic baseline the papers report."""
    tensor = torch.from_numpy(np.require(lr, requirements=["C", "W"])).permute(2, 0, 1)
    return imresize(tensor, scale=float(scale)).permute(1, 2, 0).numpy()
