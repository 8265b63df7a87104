"""Sensor noise for blind degradations, a level per image of a batch: float (B, C, H, W) images
on [0, 1] in and out (not clamped). Noise is drawn on the CPU from `generator` (None: torch's
global RNG) and moved to the images' device, so an image's noise is the same on every device."""

from __future__ import annotations

import torch
from torch import Tensor


def gaussian_noise(
    images: Tensor, sigmas: Tensor, gray: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Images plus N(0, sigma_b^2) noise; where gray[b], one draw shared by all channels."""
    batch, channels, height, width = images.shape
    noise = torch.randn(batch, channels, height, width, generator=generator)
    noise = torch.where(gray.view(-1, 1, 1, 1), noise[:, :1].expand_as(noise), noise)
    return images + noise.to(images) * sigmas.view(-1, 1, 1, 1).to(images)


def poisson_noise(
    images: Tensor, scales: Tensor, gray: Tensor, generator: torch.Generator | None = None
) -> Tensor:
    """Images plus `scale_b` times shot noise: Poisson counts of the 8-bit levels, less the
    levels; where gray[b], the noise of the image's gray (one draw for all channels)."""
    levels = images.detach().clamp(0, 1).mul(255).round_().cpu()
    noise = torch.empty_like(levels)
    for chosen, shared in ((~gray, False), (gray, True)):
        if chosen.any():
            picked = levels[chosen]
            if shared:
                picked = picked.mean(dim=1, keepdim=True).round_()
            drawn = torch.poisson(picked, generator=generator).sub_(picked)
            noise[chosen] = drawn.expand(-1, levels.shape[1], -1, -1)
    return images + noise.div_(255).mul_(scales.view(-1, 1, 1, 1).float()).to(images)
