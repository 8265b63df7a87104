"""RCAN (Zhang et al., ECCV 2018): residual-in-residual groups of channel-attention blocks.

Head conv -> G residual groups (each: B RCABs + conv, with a group skip) + conv, with a long
skip -> pixel-shuffle upsampler -> tail conv. An RCAB is EDSR's conv-ReLU-conv block whose
residual is reweighted channel by channel before the skip. Defaults are the paper's net.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from srlab.models.blocks import (
    DIV2K_RGB_MEAN,
    PixelShuffleUpsampler,
    ResBlock,
    check_img_range,
    check_scale,
    check_sizes,
    from_net_range,
    interpolate_bicubic,
    mean_buffer,
    to_net_range,
)
from srlab.utils.errors import SRLabError


class ChannelAttention(nn.Module):
    """Multiply each channel by a gate in (0, 1) computed from all channels' global averages."""

    def __init__(self, n_feats: int, reduction: int = 16):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.gate = nn.Sequential(
            nn.Conv2d(n_feats, n_feats // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(n_feats // reduction, n_feats, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) * (B, C, 1, 1)
        return x * self.gate(self.pool(x))


class RCAB(ResBlock):
    """Residual channel-attention block: conv-ReLU-conv-attention, plus the skip."""

    def __init__(self, n_feats: int, reduction: int = 16, res_scale: float = 1.0):
        super().__init__(n_feats, res_scale)
        self.body.append(ChannelAttention(n_feats, reduction))


class ResidualGroup(nn.Module):
    """n_resblocks RCABs and a conv, with a skip over the whole group."""

    def __init__(self, n_feats: int, n_resblocks: int, reduction: int, res_scale: float):
        super().__init__()
        self.body = nn.Sequential(
            *[RCAB(n_feats, reduction, res_scale) for _ in range(n_resblocks)],
            nn.Conv2d(n_feats, n_feats, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class RCAN(nn.Module):
    """Residual channel-attention network; defaults are the paper's (10 x 20 x 64, r = 16)."""

    def __init__(
        self,
        scale: int = 2,
        n_resgroups: int = 10,
        n_resblocks: int = 20,
        n_feats: int = 64,
        reduction: int = 16,
        res_scale: float = 1.0,
        n_colors: int = 3,
        mean_shift: bool = True,
        rgb_mean: Sequence[float] = DIV2K_RGB_MEAN,
        img_range: float = 1.0,
        global_skip: bool = False,
    ):
        """
        Args:
            scale: upscaling factor: 2, 3, 4 or 8 (pixel shuffle).
            n_resgroups: number of residual groups in the body.
            n_resblocks: RCABs in each group.
            n_feats: feature channels throughout the body.
            reduction: channel attention squeezes n_feats to n_feats // reduction.
            res_scale: factor on each RCAB's residual before its skip (1 in the paper).
            n_colors: image channels in and out (3 RGB, 1 gray).
            mean_shift: subtract rgb_mean from the input and add it back to the output.
            rgb_mean: the RGB mean on the [0, 1] scale (DIV2K's by default; RGB nets only).
            img_range: the body works on (x - mean) * img_range: 255 for weights trained on 0-255.
            global_skip: add the bicubic upscale of the input (not in the paper; off by default).
        """
        super().__init__()
        check_scale(scale, "pixelshuffle")
        check_sizes(
            n_resgroups=n_resgroups, n_resblocks=n_resblocks, n_feats=n_feats, n_colors=n_colors
        )
        self.scale = scale
        check_img_range(img_range)
        if not 1 <= reduction <= n_feats:
            raise SRLabError(
                f"model.reduction={reduction} must be between 1 and model.n_feats={n_feats}: "
                "channel attention squeezes n_feats to n_feats // reduction channels"
            )
        self.img_range = img_range
        self.global_skip = global_skip
        self.register_buffer("rgb_mean", mean_buffer(rgb_mean, mean_shift, n_colors))
        self.head = nn.Conv2d(n_colors, n_feats, 3, padding=1)
        self.body = nn.Sequential(
            *[
                ResidualGroup(n_feats, n_resblocks, reduction, res_scale)
                for _ in range(n_resgroups)
            ],
            nn.Conv2d(n_feats, n_feats, 3, padding=1),
        )
        self.upsample = PixelShuffleUpsampler(scale, n_feats)
        self.tail = nn.Conv2d(n_feats, n_colors, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) in [0, 1] -> (B, C, sH, sW)
        features = self.head(to_net_range(x, self.rgb_mean, self.img_range))
        features = features + self.body(features)  # long skip over all the groups
        y = self.tail(self.upsample(features))
        offset = interpolate_bicubic(x, self.scale) if self.global_skip else self.rgb_mean
        return from_net_range(y, offset, self.img_range)
