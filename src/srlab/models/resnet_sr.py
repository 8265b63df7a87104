"""Residual super-resolution network (EDSR-style): y = upsample(x + F(x)).

Head conv -> N residual blocks -> conv, with a long skip so the body learns the
residual F(x) -> upsampler (pixel shuffle or transposed convolution) -> tail conv.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from srlab.models.blocks import (
    ACTIVATIONS,
    DIV2K_RGB_MEAN,
    NORMS,
    DeconvUpsampler,
    PixelShuffleUpsampler,
    ResBlock,
    check_choice,
    check_img_range,
    check_scale,
    check_sizes,
    from_net_range,
    interpolate_bicubic,
    mean_buffer,
    to_net_range,
)


class ResNetSR(nn.Module):
    """EDSR-style residual SR network; defaults are EDSR-baseline (16 blocks, 64 features)."""

    def __init__(
        self,
        scale: int = 2,
        n_resblocks: int = 16,
        n_feats: int = 64,
        res_scale: float = 1.0,
        n_colors: int = 3,
        upsampler: str = "pixelshuffle",
        global_skip: bool = False,
        mean_shift: bool = True,
        rgb_mean: Sequence[float] = DIV2K_RGB_MEAN,
        img_range: float = 1.0,
        norm: str = "none",
        act: str = "relu",
    ):
        """
        Args:
            scale: upscaling factor (pixelshuffle: 2, 3, 4, 8; deconv: any integer >= 2).
            n_resblocks: number of residual blocks in the body.
            n_feats: feature channels throughout the body.
            res_scale: factor on each block's residual before its skip (EDSR: 0.1 at 256 feats).
            n_colors: image channels in and out (3 RGB, 1 gray).
            upsampler: "pixelshuffle" (sub-pixel conv) or "deconv" (transposed conv).
            global_skip: add the bicubic upscale of the input, so the net learns the detail only.
            mean_shift: subtract rgb_mean from the input and add it back to the output.
            rgb_mean: the RGB mean on the [0, 1] scale (DIV2K's by default; RGB nets only).
            img_range: the body works on (x - mean) * img_range: 255 for weights trained on 0-255.
            norm: "none" (EDSR's block) or "batch" (conv-BN-act-conv-BN, SRResNet's block).
            act: activation inside the blocks, "relu" or "prelu".
        """
        super().__init__()
        check_scale(scale, upsampler)
        check_sizes(n_resblocks=n_resblocks, n_feats=n_feats, n_colors=n_colors)
        check_choice("model.norm", norm, NORMS)
        check_choice("model.act", act, ACTIVATIONS)
        check_img_range(img_range)
        self.scale = scale
        self.global_skip = global_skip
        self.img_range = img_range
        self.register_buffer("rgb_mean", mean_buffer(rgb_mean, mean_shift, n_colors))
        self.head = nn.Conv2d(n_colors, n_feats, 3, padding=1)
        self.body = nn.Sequential(
            *[ResBlock(n_feats, res_scale, norm=norm, act=act) for _ in range(n_resblocks)],
            nn.Conv2d(n_feats, n_feats, 3, padding=1),
        )
        upsample = PixelShuffleUpsampler if upsampler == "pixelshuffle" else DeconvUpsampler
        self.upsample = upsample(scale, n_feats)
        self.tail = nn.Conv2d(n_feats, n_colors, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) in [0, 1] -> (B, C, sH, sW)
        features = self.head(to_net_range(x, self.rgb_mean, self.img_range))
        features = features + self.body(features)  # the body learns the residual: y = x + F(x)
        y = self.tail(self.upsample(features))
        offset = interpolate_bicubic(x, self.scale) if self.global_skip else self.rgb_mean
        return from_net_range(y, offset, self.img_range)
