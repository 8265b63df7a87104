"""PSNR and SSIM exactly as the SR papers measure them (checked against their published numbers).

The protocol: score the saved image (uint8 levels), on the Y channel of MATLAB `rgb2ycbcr`
(gray values for gray images), after shaving `border` pixels (the scale) from each side; SSIM
with an 11x11 Gaussian window (sigma 1.5) averaged over the valid region only.

Pure batched functions over (B, C, H, W) tensors on any device; each returns one value per
image, (B,), because the papers average per-image values over a set.
"""

import torch
from torch import Tensor

from srlab.ops.color import scoring_channel

DATA_RANGE = 255.0
SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def as_float64_levels(image: Tensor) -> Tensor:
    """The image as float64 0-255 levels, the way a saved PNG holds them.

    uint8 is taken as is. Float is taken as [0, 1] and quantized, round(clamp(x, 0, 1) * 255),
    so a network's output is scored as the image it would save (as BasicSR does); scoring the
    unquantized floats would credit it with precision that no saved result has.
    """
    if image.dtype == torch.uint8:
        return image.to(torch.float64)
    if image.is_floating_point():
        # float64 makes x * 255 exact for float32/16 inputs; torch.round rounds half to even,
        # like numpy's round in BasicSR's tensor2img.
        return torch.round(image.to(torch.float64).clamp(0.0, 1.0) * 255.0)
    raise ValueError(f"expected uint8 levels or float in [0, 1]; got dtype {image.dtype}")


def shave(image: Tensor, border: int) -> Tensor:
    """Crop `border` pixels from each side of H and W: the protocol ignores the scale's border,
    where upscalers lack context."""
    height, width = image.shape[-2:]
    if border < 0 or 2 * border >= min(height, width):
        raise ValueError(f"cannot shave {border} pixels from each side of a {height}x{width} image")
    return image[..., border : height - border, border : width - border]


def psnr(sr: Tensor, hr: Tensor, border: int, y_channel: bool = True) -> Tensor:
    """Per-image PSNR in dB (data range 255), (B,); float64.

    With y_channel=False the MSE is taken over all RGB values jointly (as skimage and BasicSR do).
    Identical images give +inf (their MSE is 0); a set's mean is then +inf too.
    """
    sr, hr = _scored_pair(sr, hr, border, y_channel)
    mse = (sr - hr).square().mean(dim=(1, 2, 3))
    return 10.0 * torch.log10(DATA_RANGE**2 / mse)


def ssim(sr: Tensor, hr: Tensor, border: int, y_channel: bool = True) -> Tensor:
    """Per-image SSIM (Wang et al. 2004, as MATLAB's ssim_index.m), (B,); float64.

    Local statistics come from an 11x11 Gaussian window (sigma 1.5) applied on the valid region
    only: no padding, so the map is (H - 10) x (W - 10) and border pixels are never invented.
    With y_channel=False the map is averaged over the channels too.
    """
    sr, hr = _scored_pair(sr, hr, border, y_channel)
    if min(sr.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(
            f"SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels after shaving; "
            f"got {tuple(sr.shape[-2:])}"
        )
    return _ssim_map(sr, hr).mean(dim=(1, 2, 3))


def _scored_pair(sr: Tensor, hr: Tensor, border: int, y_channel: bool) -> tuple[Tensor, Tensor]:
    """Validate a pair and turn both into the shaved float64 levels that the protocol scores."""
    if sr.shape != hr.shape or sr.ndim != 4:
        raise ValueError(
            "sr and hr must be (B, C, H, W) batches of the same shape; "
            f"got sr {tuple(sr.shape)} and hr {tuple(hr.shape)}"
        )
    sr, hr = as_float64_levels(sr), as_float64_levels(hr)
    if y_channel:
        sr, hr = scoring_channel(sr), scoring_channel(hr)
    return shave(sr, border), shave(hr, border)


def _ssim_map(x: Tensor, y: Tensor) -> Tensor:
    """The SSIM map of float64 (B, C, H, W) levels, (B, C, H - 10, W - 10)."""
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    # Filter the five statistics of every channel at once.
    stats = torch.stack([x, y, x * x, y * y, x * y])
    mu_x, mu_y, xx, yy, xy = _gaussian_filter_valid(stats)
    var_x = xx - mu_x * mu_x
    var_y = yy - mu_y * mu_y
    cov_xy = xy - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x * mu_x + mu_y * mu_y + c1)
    structure = (2 * cov_xy + c2) / (var_x + var_y + c2)
    return luminance * structure


def _valid(image: Tensor) -> tuple[int, int]:
    """The (H, W) of a valid-region filter output."""
    height, width = image.shape[-2:]
    return height - SSIM_WINDOW + 1, width - SSIM_WINDOW + 1


def _gaussian_filter_valid(images: Tensor) -> Tensor:
    """Gaussian-weighted local means of (..., H, W) images on the valid region only.

    The 2-D Gaussian is separable: two 1-D passes (11 + 11 taps) replace one 11x11 (121), each
    a sum of shifted views: 5x faster SSIM than with F.conv2d, whose float64 CPU kernel unfolds
    the image 11 times over, and the same values (on Set5, Set14 and BSD68).
    """
    window = _gaussian_window(images.dtype, images.device).tolist()
    height, width = _valid(images)
    rows = images[..., :height, :] * window[0]
    for tap, weight in enumerate(window[1:], start=1):
        rows.add_(images[..., tap : tap + height, :], alpha=weight)
    means = rows[..., :width] * window[0]
    for tap, weight in enumerate(window[1:], start=1):
        means.add_(rows[..., tap : tap + width], alpha=weight)
    return means


def _gaussian_window(dtype: torch.dtype, device: torch.device) -> Tensor:
    """The normalized 1-D Gaussian (11 taps, sigma 1.5); its outer product with itself is
    MATLAB's fspecial('gaussian', 11, 1.5), the window of ssim_index.m."""
    offsets = torch.arange(SSIM_WINDOW, dtype=dtype, device=device) - (SSIM_WINDOW - 1) / 2
    weights = torch.exp(-(offsets**2) / (2 * SSIM_SIGMA**2))
    return weights / weights.sum()
