"""Color conversion: the channel that the SR papers' PSNR/SSIM protocol measures, and MATLAB's
YCbCr, on which the Y-channel nets (SRCNN, VDSR) run.

Images are (B, C, H, W) tensors of levels on the 0-255 scale (any dtype, any device).
"""

import torch
from torch import Tensor

# MATLAB rgb2ycbcr (ITU-R BT.601, studio range: Y in 16-235, Cb and Cr in 16-240) for R, G, B
# in 0-255: one row of weights and one offset per output channel.
Y_WEIGHTS = (65.481, 128.553, 24.966)
CB_WEIGHTS = (-37.797, -74.203, 112.0)
CR_WEIGHTS = (112.0, -93.786, -18.214)
Y_OFFSET = 16.0
CHROMA_OFFSET = 128.0
YCBCR_ROWS = ((Y_WEIGHTS, Y_OFFSET), (CB_WEIGHTS, CHROMA_OFFSET), (CR_WEIGHTS, CHROMA_OFFSET))
# MATLAB ycbcr2rgb's matrix for double images: 255 * inv(T), T the three rows of weights.
RGB_FROM_YCBCR = 255.0 * torch.linalg.inv(
    torch.tensor([row for row, _ in YCBCR_ROWS], dtype=torch.float64)
)


def rgb_to_y(image: Tensor) -> Tensor:
    """The Y of MATLAB `rgb2ycbcr` as float64, (B, 3, H, W) -> (B, 1, H, W).

    Not rounded: the protocol (EDSR's and RCAN's MATLAB scripts, BasicSR) converts double
    images, so Y keeps its fractions; rounding it would move PSNR by up to ~0.05 dB.
    """
    return _rgb_rows(image, YCBCR_ROWS[:1])


def rgb_to_ycbcr(image: Tensor) -> Tensor:
    """MATLAB `rgb2ycbcr` of a double image, as float64 levels, not rounded:
    (B, 3, H, W) R, G, B -> (B, 3, H, W) Y, Cb, Cr."""
    return _rgb_rows(image, YCBCR_ROWS)


def ycbcr_to_rgb(image: Tensor) -> Tensor:
    """MATLAB `ycbcr2rgb` of a double image (the exact inverse of rgb_to_ycbcr), as float64
    levels, neither rounded nor clipped: (B, 3, H, W) Y, Cb, Cr -> (B, 3, H, W) R, G, B."""
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"ycbcr_to_rgb expects (B, 3, H, W) images; got {tuple(image.shape)}")
    ycbcr = image.to(torch.float64)
    offsets = [offset for _, offset in YCBCR_ROWS]
    centered = ycbcr - torch.tensor(offsets, dtype=torch.float64, device=ycbcr.device).view(3, 1, 1)
    return torch.einsum("oc,bchw->bohw", RGB_FROM_YCBCR.to(ycbcr.device), centered)


def _rgb_rows(image: Tensor, rows: tuple[tuple[tuple[float, ...], float], ...]) -> Tensor:
    """float64 (B, len(rows), H, W): offset + weights . (R, G, B) / 255 for each row."""
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"expected (B, 3, H, W) RGB images; got {tuple(image.shape)}")
    rgb = image.to(torch.float64)
    channels = []
    for row, offset in rows:
        weights = torch.tensor(row, dtype=torch.float64, device=rgb.device).view(1, 3, 1, 1)
        channels.append(offset + (rgb * weights).sum(dim=1, keepdim=True) / 255.0)
    return torch.cat(channels, dim=1)


def scoring_channel(image: Tensor) -> Tensor:
    """The float64 (B, 1, H, W) channel that PSNR/SSIM measure: Y for RGB, gray values for gray.

    A grayscale image (Set14's `bridge.png`) is scored on its gray values as they are, as the
    published tables do: the Y of a replicated RGB image is squeezed into 16-235, which would
    add ~1.3 dB to that image's PSNR.
    """
    if image.ndim == 4 and image.shape[1] == 1:
        return image.to(torch.float64)
    if image.ndim == 4 and image.shape[1] == 3:
        return rgb_to_y(image)
    raise ValueError(
        f"expected (B, 1, H, W) gray or (B, 3, H, W) RGB images; got {tuple(image.shape)}"
    )


def gray_from_rgb(sr: Tensor) -> Tensor:
    """(B, 3, H, W) -> (B, 1, H, W): the gray image an RGB net made from a replicated gray input.

    The plain mean of the three channels: the input had R = G = B, so the channels differ only by
    the net's own colour errors, and no channel (nor Y's colour weights) is to be preferred.
    """
    return sr.mean(dim=1, keepdim=True)
