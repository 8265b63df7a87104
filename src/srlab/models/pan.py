"""PAN (Zhao et al., ECCVW 2020): pixel attention network.

Head conv -> N SCPA blocks -> conv, with a long skip -> U-PA upsampling (nearest neighbour, conv,
pixel attention, conv; two x2 steps for x4) -> conv to the image, plus the bilinear upscale of
the input. Pixel attention (PA) multiplies every feature by a sigmoid gate of its own pixel's
1x1 conv: a (C, H, W) attention map, where channel attention has (C, 1, 1) and spatial (1, H, W).

An SCPA (self-calibrated conv with PA, after SCNet) splits the features into two halves by 1x1
convs: one goes through a 3x3 conv `k1`, the other through `PAConv` (a 3x3 conv gated by PA,
then a 3x3 conv); a 1x1 conv joins them, plus the block's input.

Submodules keep the authors' names (zhaohengyuan1/PAN: `conv_first`, `SCPA_trunk.<i>.conv1_a`,
`upconv1`, `att1`, `HRconv1` ...), so their `PANx{2,3,4}_DF2K.pth` load as they are. They take
RGB in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from srlab.models.blocks import check_scale_in, check_sizes, interpolate_bicubic
from srlab.utils.errors import SRLabError

SCALES = (2, 3, 4)
LEAKY_SLOPE = 0.2


def conv3x3(in_channels: int, out_channels: int, bias: bool = True) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias)


def leaky_relu(x: torch.Tensor) -> torch.Tensor:
    return F.leaky_relu(x, LEAKY_SLOPE)


class PixelAttention(nn.Module):
    """PA: x * sigmoid(1x1 conv(x)), a gate per channel and pixel."""

    def __init__(self, n_feats: int):
        super().__init__()
        self.conv = nn.Conv2d(n_feats, n_feats, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(self.conv(x))


class PAConv(nn.Module):
    """A 3x3 conv `k3` gated by the PA map of x (`k2`, 1x1), then a 3x3 conv `k4`."""

    def __init__(self, n_feats: int):
        super().__init__()
        self.k2 = nn.Conv2d(n_feats, n_feats, 1)
        self.k3 = conv3x3(n_feats, n_feats, bias=False)
        self.k4 = conv3x3(n_feats, n_feats, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.k4(self.k3(x) * torch.sigmoid(self.k2(x)))


class SCPA(nn.Module):
    """Self-calibrated convolution with pixel attention: two halves, `k1` and `PAConv`, joined
    by the 1x1 `conv3`, plus the input. Bias-free convs but PA's, as the authors'."""

    def __init__(self, n_feats: int):
        super().__init__()
        half = n_feats // 2
        self.conv1_a = nn.Conv2d(n_feats, half, 1, bias=False)
        self.conv1_b = nn.Conv2d(n_feats, half, 1, bias=False)
        self.k1 = nn.Sequential(conv3x3(half, half, bias=False))
        self.PAConv = PAConv(half)
        self.conv3 = nn.Conv2d(2 * half, n_feats, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        plain = leaky_relu(self.k1(leaky_relu(self.conv1_a(x))))
        attended = leaky_relu(self.PAConv(leaky_relu(self.conv1_b(x))))
        return x + self.conv3(torch.cat([plain, attended], dim=1))


def upsample_step(
    x: torch.Tensor, step: int, upconv: nn.Module, attention: nn.Module, hr_conv: nn.Module
) -> torch.Tensor:
    """U-PA: nearest-neighbour x step, conv, PA, conv (each followed by LeakyReLU)."""
    x = upconv(F.interpolate(x, scale_factor=step, mode="nearest"))
    return leaky_relu(hr_conv(leaky_relu(attention(x))))


class PAN(nn.Module):
    """Pixel attention network; defaults are the paper's (16 SCPAs x 40, 24 in the upsampler)."""

    def __init__(
        self,
        scale: int = 4,
        n_feats: int = 40,
        n_blocks: int = 16,
        upsampler_feats: int = 24,
        n_colors: int = 3,
        global_skip: bool = False,
    ):
        """
        Args:
            scale: upscaling factor: 2, 3 (one upsampling step) or 4 (two x2 steps).
            n_feats: feature channels of the trunk, at least 2 (an SCPA splits them in halves).
            n_blocks: number of SCPA blocks.
            upsampler_feats: feature channels of the upsampling steps.
            n_colors: image channels in and out (3 RGB, 1 gray).
            global_skip: the upscale of the input added to the output is bicubic, as other
                families' global skip, instead of the paper's bilinear.
        """
        super().__init__()
        check_scale_in(scale, SCALES, "PAN")
        check_sizes(n_blocks=n_blocks, upsampler_feats=upsampler_feats, n_colors=n_colors)
        if isinstance(n_feats, bool) or not n_feats >= 2:
            raise SRLabError(f"model.n_feats={n_feats!r} must be >= 2: an SCPA halves them")
        self.scale = scale
        self.global_skip = global_skip
        self.conv_first = conv3x3(n_colors, n_feats)
        self.SCPA_trunk = nn.Sequential(*[SCPA(n_feats) for _ in range(n_blocks)])
        self.trunk_conv = conv3x3(n_feats, n_feats)
        self.upconv1 = conv3x3(n_feats, upsampler_feats)
        self.att1 = PixelAttention(upsampler_feats)
        self.HRconv1 = conv3x3(upsampler_feats, upsampler_feats)
        if scale == 4:
            self.upconv2 = conv3x3(upsampler_feats, upsampler_feats)
            self.att2 = PixelAttention(upsampler_feats)
            self.HRconv2 = conv3x3(upsampler_feats, upsampler_feats)
        self.conv_last = conv3x3(upsampler_feats, n_colors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) in [0, 1] -> (B, C, sH, sW)
        features = self.conv_first(x)
        features = features + self.trunk_conv(self.SCPA_trunk(features))  # long skip
        if self.scale == 4:
            features = upsample_step(features, 2, self.upconv1, self.att1, self.HRconv1)
            features = upsample_step(features, 2, self.upconv2, self.att2, self.HRconv2)
        else:
            features = upsample_step(features, self.scale, self.upconv1, self.att1, self.HRconv1)
        if self.global_skip:
            upscaled = interpolate_bicubic(x, self.scale)
        else:
            upscaled = F.interpolate(
                x, scale_factor=self.scale, mode="bilinear", align_corners=False
            )
        return self.conv_last(features) + upscaled
