"""Color conversion for scoring: the channel that the SR papers' PSNR/SSIM protocol measures.

Images are (B, C, H, W) tensors of levels on the 0-255 scale (any dtype, any device).
"""

import torch
from torch import Tensor

# MATLAB rgb2ycbcr's luma row (ITU-R BT.601, studio range: Y in 16-235) for R, G, B in 0-255.
Y_WEIGHTS = (65.481, 128.553, 24.966)
Y_OFFSET = 16.0


def rgb_to_y(image: Tensor) -> Tensor:
    """The Y of MATLAB `rgb2ycbcr` as float64, (B, 3, H, W) -> (B, 1, H, W).

    Not rounded: the protocol (EDSR's and RCAN's MATLAB scripts, BasicSR) converts double
    images, so Y keeps its fractions; rounding it would move PSNR by up to ~0.05 dB.
    """
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"rgb_to_y expects (B, 3, H, W) RGB images; got {tuple(image.shape)}")
    rgb = image.to(torch.float64)
    weights = torch.tensor(Y_WEIGHTS, dtype=torch.float64, device=rgb.device).view(1, 3, 1, 1)
    return Y_OFFSET + (rgb * weights).sum(dim=1, keepdim=True) / 255.0


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
