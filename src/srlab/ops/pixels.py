"""uint8 HWC arrays <-> tensors: the one place images cross between NumPy and torch."""

from __future__ import annotations

import numpy as np
import torch


def planes(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, C) array -> uint8 (C, H, W) tensor sharing its memory where it can."""
    return torch.from_numpy(np.require(image, requirements=["C", "W"])).permute(2, 0, 1)


def as_batch(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, C) -> uint8 (1, C, H, W), the layout the metrics take."""
    return planes(image)[None]


def to_float(image: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, C) -> float (C, H, W) in [0, 1]."""
    return planes(image).float().div_(255.0)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """float (C, H, W) in [0, 1] -> uint8 (H, W, C), rounded to the nearest level."""
    return image.clamp(0, 1).mul(255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()


def matlab_uint8(values: torch.Tensor) -> torch.Tensor:
    """Levels on 0..255 -> uint8 as MATLAB's uint8() casts them: rounded half away from zero,
    saturated (torch.round would round half to even)."""
    return values.add(0.5).clamp_(0, 255.5).to(torch.uint8)


def hwc(image: torch.Tensor) -> np.ndarray:
    """(C, H, W) tensor of any dtype -> its (H, W, C) NumPy array."""
    return image.permute(1, 2, 0).cpu().numpy()
