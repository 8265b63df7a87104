"""Blur: MATLAB's Gaussian blur and sampling as the BD protocol uses them (RDN, RCAN, SRMD test
code): `fspecial('gaussian', size, sigma)`, `imfilter(hr, kernel, 'replicate')` on uint8, then
every `scale`-th pixel (against the RDN authors' MATLAB-made Set5 x3 LR: 100% of pixels
identical); and the random kernels of blind degradations, applied a kernel per image of a batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

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


# Random blur kernels for blind degradations (Real-ESRGAN's second-order model, Wang et al. 2021,
# section 3.1): float64 (size, size) tensors that sum to 1, centred on the middle tap.


def _quadratic_form(size: int, sigma_x: float, sigma_y: float, theta: float) -> Tensor:
    """x^T Sigma^-1 x on the size x size grid, Sigma the covariance with standard deviations
    `sigma_x`, `sigma_y` along axes rotated by `theta`."""
    half = (size - 1) / 2
    axis = torch.arange(size, dtype=torch.float64) - half
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    cos, sin = math.cos(theta), math.sin(theta)
    u, v = cos * x + sin * y, -sin * x + cos * y  # the grid in the rotated axes
    return (u / sigma_x) ** 2 + (v / sigma_y) ** 2


def anisotropic_gaussian(size: int, sigma_x: float, sigma_y: float, theta: float) -> Tensor:
    """exp(-x^T Sigma^-1 x / 2); isotropic when sigma_x == sigma_y."""
    kernel = torch.exp(-0.5 * _quadratic_form(size, sigma_x, sigma_y, theta))
    return kernel / kernel.sum()


def generalized_gaussian(
    size: int, sigma_x: float, sigma_y: float, theta: float, beta: float
) -> Tensor:
    """exp(-(x^T Sigma^-1 x / 2)^beta): beta < 1 a sharper peak, beta > 1 a flatter top."""
    kernel = torch.exp(-((0.5 * _quadratic_form(size, sigma_x, sigma_y, theta)) ** beta))
    return kernel / kernel.sum()


def plateau(size: int, sigma_x: float, sigma_y: float, theta: float, beta: float) -> Tensor:
    """1 / (1 + (x^T Sigma^-1 x)^beta): a flat top with heavy tails."""
    kernel = 1 / (1 + _quadratic_form(size, sigma_x, sigma_y, theta) ** beta)
    return kernel / kernel.sum()


def sinc(size: int, cutoff: float) -> Tensor:
    """The ideal circular low-pass at `cutoff` (radians per pixel), cut to size x size: the
    ringing and overshoot artifacts of sharpening and of some resizers."""
    from scipy.special import j1

    half = (size - 1) / 2
    axis = np.arange(size) - half
    radius = np.hypot(*np.meshgrid(axis, axis, indexing="ij"))
    with np.errstate(divide="ignore", invalid="ignore"):
        kernel = cutoff * j1(cutoff * radius) / (2 * np.pi * radius)
    kernel[radius == 0] = cutoff**2 / (4 * np.pi)  # the limit at the centre
    kernel = torch.from_numpy(kernel)
    return kernel / kernel.sum()


def filter_each(images: Tensor, kernels: Sequence[Tensor]) -> Tensor:
    """float (B, C, H, W) -> float (B, C, H, W): image b correlated with kernels[b] (k x k, k
    odd; 1 x 1 [[1]] is the identity), edges reflected (replicated where the image is smaller
    than the kernel's reach). One grouped convolution, every kernel zero-padded to the largest:
    one call per kernel size ran 10x slower on a CPU."""
    batch, channels, height, width = images.shape
    size = max(kernel.shape[-1] for kernel in kernels)
    pad = size // 2
    mode = "reflect" if pad < min(height, width) else "replicate"
    stacked = torch.stack([F.pad(k, ((size - k.shape[-1]) // 2,) * 4) for k in kernels])
    weight = stacked.to(images).repeat_interleave(channels, dim=0)[:, None]
    padded = F.pad(images.reshape(1, batch * channels, height, width), (pad,) * 4, mode=mode)
    filtered = F.conv2d(padded, weight, groups=batch * channels)
    return filtered.reshape(batch, channels, height, width)
