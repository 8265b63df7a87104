"""MATLAB's Gaussian blur and sampling as the BD protocol uses them (RDN, RCAN, SRMD test code):
`fspecial('gaussian', size, sigma)`, `imfilter(hr, kernel, 'replicate')` on uint8, then every
`scale`-th pixel. Against the RDN authors' MATLAB-made Set5 x3 LR: 100% of pixels identical.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from srlab.ops.pixels import matlab_uint8


def gaussian_kernel(size: int, sigma: float) -> Tensor:
    """float64 (size, size), as MATLAB's fspecial('gaussian', size, sigma): taps below eps of
    the peak dropped, then normalized to sum 1 (an even size is centred between two pixels)."""
    radius = (size - 1) / 2
    x = torch.arange(size, dtype=torch.float64) - radius
    kernel = torch.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    kernel[kernel < np.finfo(np.float64).eps * kernel.max()] = 0
    return kernel / kernel.sum()


def blur_downsample(planes: Tensor, kernel: Tensor, scale: int) -> Tensor:
    """uint8 (..., C, H, W) -> uint8 (..., C, H/s, W/s) with H, W multiples of s: the blur of
    `imfilter(image, kernel, 'replicate')` at pixels (s-1)//2, +s, ... of each axis.

    Those are MATLAB's `imresize(blur, 1/s, 'nearest')` pixels at odd scales (2, 5, 8 ... at
    x3, 1-based) and the authors' `blur(s/2:s:end-s/2, ...)` at even ones. imfilter correlates
    (no kernel flip) in double around tap floor((size+1)/2) and rounds back to uint8; only the
    kept pixels are computed.
    """
    *batch, channels, height, width = planes.shape
    size = kernel.shape[0]
    before = (size + 1) // 2 - 1  # MATLAB's kernel centre, 0-based
    after = size - 1 - before
    offset = (scale - 1) // 2
    x = planes.reshape(-1, 1, height, width).double()
    x = F.pad(x, (before, after, before, after), mode="replicate")
    x = x[..., offset:, offset:]
    blurred = F.conv2d(x, kernel.to(x)[None, None], stride=scale)
    blurred = blurred[..., : height // scale, : width // scale]
    return matlab_uint8(blurred).reshape(*batch, channels, height // scale, width // scale)
