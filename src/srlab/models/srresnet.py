"""SRResNet (Ledig et al., CVPR 2017): the generator of SRGAN, trained alone with MSE.

9x9 head conv + PReLU -> 16 residual blocks (conv-BN-PReLU-conv-BN) -> conv + BN, with a long
skip -> pixel-shuffle x2 steps, each followed by PReLU -> 9x9 tail conv.
"""

from __future__ import annotations

import torch
from torch import nn

from srlab.models.blocks import (
    PixelShuffleUpsampler,
    ResBlock,
    check_scale,
    check_sizes,
    interpolate_bicubic,
)


class SRResNet(nn.Module):
    """SRGAN's generator; defaults are the paper's (x4, 16 blocks, 64 features)."""

    def __init__(
        self,
        scale: int = 4,
        n_resblocks: int = 16,
        n_feats: int = 64,
        n_colors: int = 3,
        global_skip: bool = False,
    ):
        """
        Args:
            scale: upscaling factor: 2, 3, 4 or 8 (the paper trains x4 only).
            n_resblocks: number of residual blocks in the body.
            n_feats: feature channels throughout the body.
            n_colors: image channels in and out (3 RGB, 1 gray).
            global_skip: add the bicubic upscale of the input (not in the paper; off by default).
        """
        super().__init__()
        check_scale(scale, "pixelshuffle")
        check_sizes(n_resblocks=n_resblocks, n_feats=n_feats, n_colors=n_colors)
        self.scale = scale
        self.global_skip = global_skip
        self.head = nn.Sequential(nn.Conv2d(n_colors, n_feats, 9, padding=4), nn.PReLU())
        self.body = nn.Sequential(
            *[ResBlock(n_feats, norm="batch", act="prelu") for _ in range(n_resblocks)],
            nn.Conv2d(n_feats, n_feats, 3, padding=1),
            nn.BatchNorm2d(n_feats),
        )
        self.upsample = PixelShuffleUpsampler(scale, n_feats, act="prelu")
        self.tail = nn.Conv2d(n_feats, n_colors, 9, padding=4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) in [0, 1] -> (B, C, sH, sW)
        features = self.head(x)
        features = features + self.body(features)  # the body learns the residual
        y = self.tail(self.upsample(features))
        return (y + interpolate_bicubic(x, self.scale)) if self.global_skip else y
