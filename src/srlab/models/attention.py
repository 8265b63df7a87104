"""Blocks of the efficient SR nets (IMDN, RFDN, RLFN, BSRN): the attentions that reweight
features (CCA by channel; ESA by pixel, on the SpatialGate frame), RFDN's distillation steps
(kept by BSRN), the pixel-shuffle tail straight to the image, numbered blocks, and the trunk that
IMDN and RFDN share (DistillationNet).

Submodules keep the authors' names (`cca.conv_du`, `esa.conv_f`, `upsampler.0` ...) so their
published state dicts load as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F
from torch import nn

from srlab.models.blocks import check_img_range, check_integer_scale, interpolate_bicubic
from srlab.utils.errors import SRLabError

LEAKY_SLOPE = 0.05  # IMDN's, kept by RFDN and RLFN
# ESA's context branch: a strided conv, then a 7x7 max pool with stride 3.
ESA_POOL, ESA_POOL_STRIDE = 7, 3
ESA_MIN_SIZE = 2 * ESA_POOL + 1  # the smallest input (h and w) that leaves one pooled value


# (in_channels, out_channels, stride=1, padding=1) -> a 3x3 conv (BSRN's: a BSConv)
ConvFactory = Callable[..., nn.Module]


def leaky_relu() -> nn.LeakyReLU:
    return nn.LeakyReLU(LEAKY_SLOPE, inplace=True)


def conv3x3(in_channels: int, out_channels: int, stride: int = 1, padding: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=padding)


class CCA(nn.Module):
    """Contrast-aware channel attention (IMDN): each channel is gated by a squeeze-excitation of
    its standard deviation plus its mean over the image (RCAN's gate sees the mean only)."""

    def __init__(self, n_feats: int, reduction: int = 16):
        super().__init__()
        hidden = n_feats // reduction
        if hidden < 1:
            raise SRLabError(
                f"model.reduction={reduction} leaves no channel of {n_feats} in the attention; "
                f"use a reduction <= {n_feats}"
            )
        self.conv_du = nn.Sequential(
            nn.Conv2d(n_feats, hidden, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden, n_feats, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) * (B, C, 1, 1); the population std (divided by H * W), as the authors'
        std, mean = torch.std_mean(x, dim=(2, 3), keepdim=True, correction=0)
        return x * self.conv_du(std + mean)


class SpatialGate(nn.Module):
    """The frame of enhanced spatial attention (ESA; RFANet, kept by RFDN, RLFN, BSRN): a
    per-pixel gate in (0, 1) from a 1x1-reduced copy of the features (`conv1`), seen at 1/6
    resolution through a strided conv (`conv2`) and a 7x7 max pool, refined by `context`,
    upsampled and added to a 1x1 of the reduced features (`conv_f`) before the gate's 1x1
    (`conv4`). Subclasses make those four convs and `context`.

    Inputs must be at least ESA_MIN_SIZE (15) pixels high and wide.
    """

    conv1: nn.Module
    conv_f: nn.Module
    conv2: nn.Module
    conv4: nn.Module

    def context(self, pooled: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if min(x.shape[-2:]) < ESA_MIN_SIZE:
            raise SRLabError(
                f"ESA attention needs images of at least {ESA_MIN_SIZE}x{ESA_MIN_SIZE} LR pixels; "
                f"got {tuple(x.shape[-2:])}: use a larger tile, or a data.patch_size of at "
                f"least {ESA_MIN_SIZE} x the scale (HR pixels)"
            )
        reduced = self.conv1(x)
        # (B, f, H, W) -> (B, f, ~H/6, ~W/6)
        pooled = F.max_pool2d(self.conv2(reduced), ESA_POOL, stride=ESA_POOL_STRIDE)
        context = F.interpolate(
            self.context(pooled), size=x.shape[-2:], mode="bilinear", align_corners=False
        )
        return x * torch.sigmoid(self.conv4(context + self.conv_f(reduced)))


class ESA(SpatialGate):
    """RFDN's ESA: the context is conv_max, ReLU, conv3, ReLU, conv3_ (3x3 convs). BSRN's has
    the same keys with BSConvs for its 3x3 convs (`conv`) and GELU for ReLU (`act`);
    BSRN-S keeps the strided conv2 a plain conv (`strided_conv`)."""

    def __init__(
        self,
        n_feats: int,
        esa_channels: int,
        conv: ConvFactory = conv3x3,
        act: Callable[[torch.Tensor], torch.Tensor] = F.relu,
        strided_conv: ConvFactory | None = None,
    ):
        super().__init__()
        self.act = act
        self.conv1 = nn.Conv2d(n_feats, esa_channels, 1)
        self.conv_f = nn.Conv2d(esa_channels, esa_channels, 1)
        self.conv_max = conv(esa_channels, esa_channels)
        strided_conv = strided_conv or conv
        self.conv2 = strided_conv(esa_channels, esa_channels, stride=2, padding=0)
        self.conv3 = conv(esa_channels, esa_channels)
        self.conv3_ = conv(esa_channels, esa_channels)
        self.conv4 = nn.Conv2d(esa_channels, n_feats, 1)

    def context(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.conv3_(self.act(self.conv3(self.act(self.conv_max(pooled)))))


class LightESA(SpatialGate):
    """RLFN's ESA: the context is one 3x3 conv, conv3 (no conv_max, conv3_ nor ReLUs)."""

    def __init__(self, n_feats: int, esa_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(n_feats, esa_channels, 1)
        self.conv_f = nn.Conv2d(esa_channels, esa_channels, 1)
        self.conv2 = conv3x3(esa_channels, esa_channels, stride=2, padding=0)
        self.conv3 = conv3x3(esa_channels, esa_channels)
        self.conv4 = nn.Conv2d(esa_channels, n_feats, 1)

    def context(self, pooled: torch.Tensor) -> torch.Tensor:
        return self.conv3(pooled)


class FeatureDistillation(nn.Module):
    """RFDN's residual feature distillation, kept by BSRN's ESDB: three steps of (1x1 distil
    `c*_d`, 3x3 refine `c*_r` plus its input: a shallow residual block), a last 3x3 distil `c4`,
    the 1x1 fusion `c5` of the four distilled parts, then the spatial gate `esa`. `conv` makes
    the 3x3 convs; `make_esa` the gate, last, so that a seed draws the weights in the authors'
    order."""

    def __init__(
        self,
        n_feats: int,
        conv: ConvFactory,
        act: nn.Module,
        make_esa: Callable[[], SpatialGate],
    ):
        super().__init__()
        distilled = n_feats // 2
        self.c1_d = nn.Conv2d(n_feats, distilled, 1)
        self.c1_r = conv(n_feats, n_feats)
        self.c2_d = nn.Conv2d(n_feats, distilled, 1)
        self.c2_r = conv(n_feats, n_feats)
        self.c3_d = nn.Conv2d(n_feats, distilled, 1)
        self.c3_r = conv(n_feats, n_feats)
        self.c4 = conv(n_feats, distilled)
        self.act = act
        self.c5 = nn.Conv2d(4 * distilled, n_feats, 1)
        self.esa = make_esa()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        distilled_1 = self.act(self.c1_d(x))
        refined_1 = self.act(self.c1_r(x) + x)
        distilled_2 = self.act(self.c2_d(refined_1))
        refined_2 = self.act(self.c2_r(refined_1) + refined_1)
        distilled_3 = self.act(self.c3_d(refined_2))
        refined_3 = self.act(self.c3_r(refined_2) + refined_2)
        distilled_4 = self.act(self.c4(refined_3))
        distilled = torch.cat([distilled_1, distilled_2, distilled_3, distilled_4], dim=1)
        return self.esa(self.c5(distilled))


class PixelShuffleToImage(nn.Sequential):
    """The tail: one 3x3 conv to n_colors * scale^2 channels, shuffled into the image."""

    def __init__(self, n_feats: int, scale: int, n_colors: int = 3):
        check_integer_scale(scale)
        super().__init__(
            nn.Conv2d(n_feats, n_colors * scale**2, 3, padding=1), nn.PixelShuffle(scale)
        )


def add_blocks(net: nn.Module, prefix: str, blocks: Iterable[nn.Module]) -> tuple[str, ...]:
    """Register blocks as `<prefix>1`, `<prefix>2` ... (the authors' keys: IMDB1, B1, block_1);
    returns their names in order."""
    names = []
    for number, block in enumerate(blocks, start=1):
        names.append(f"{prefix}{number}")
        net.add_module(names[-1], block)
    return tuple(names)


def outputs_of_chain(net: nn.Module, names: tuple[str, ...], x: torch.Tensor) -> list[torch.Tensor]:
    """Run the named blocks one after another from x; the output of every one of them."""
    outputs = []
    for name in names:
        x = getattr(net, name)(x)
        outputs.append(x)
    return outputs


def output_image(
    y: torch.Tensor, x: torch.Tensor, scale: int, img_range: float, global_skip: bool
) -> torch.Tensor:
    """The net's output y (on the img_range scale) as a [0, 1] image: y / img_range, plus the
    bicubic upscale of the input x with global_skip."""
    y = y / img_range
    return y + interpolate_bicubic(x, scale) if global_skip else y


class DistillationNet(nn.Module):
    """IMDN's trunk, kept by RFDN: head conv `fea_conv` -> the blocks -> 1x1 fusion `c` of every
    block's output -> 3x3 `LR_conv`, with a long skip -> pixel shuffle to the image."""

    def __init__(
        self,
        scale: int,
        n_feats: int,
        blocks: list[nn.Module],
        block_prefix: str,
        n_colors: int,
        global_skip: bool,
        img_range: float,
    ):
        super().__init__()
        check_img_range(img_range)
        self.scale = scale
        self.global_skip = global_skip
        self.img_range = img_range
        self.fea_conv = nn.Conv2d(n_colors, n_feats, 3, padding=1)
        self.block_names = add_blocks(self, block_prefix, blocks)
        self.c = nn.Sequential(nn.Conv2d(len(blocks) * n_feats, n_feats, 1), leaky_relu())
        self.LR_conv = nn.Conv2d(n_feats, n_feats, 3, padding=1)
        self.upsampler = PixelShuffleToImage(n_feats, scale, n_colors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) in [0, 1] -> (B, C, sH, sW)
        features = self.fea_conv(x * self.img_range)
        fused = self.c(torch.cat(outputs_of_chain(self, self.block_names, features), dim=1))
        y = self.upsampler(self.LR_conv(fused) + features)  # long skip over all the blocks
        return output_image(y, x, self.scale, self.img_range, self.global_skip)
