"""BSRN and BSRN-S (Li et al., CVPRW 2022): blueprint separable residual network.

RFDN's design with blueprint separable convolutions (BSConv: a 1x1 pointwise conv, then a 3x3
depthwise conv) in place of its 3x3 convs and GELU in place of LeakyReLU. Head BSConv on the
input replicated 4 times -> N efficient separable distillation blocks (ESDB) -> 1x1 fusion of
every block's output, GELU, BSConv, with a long skip -> pixel shuffle straight to the image.
An ESDB is RFDB's three distil/refine steps, its last distillation and 1x1 fusion, then ESA,
then CCA (contrast-aware channel attention), with a skip over the whole block.

BSRN-S (`variant="bsrn_s"`, the authors' NTIRE 2022 challenge model, 5 blocks x 48) differs in
three ways: its pointwise convs have biases, its ESA's strided conv is a plain 3x3 conv, and each
block ends with learned per-channel weights `cw` and a 1x1 conv `conv_out` instead of CCA.

Submodules keep the authors' names (xiaom233/BSRN: `fea_conv`, `B1`, `c1_r.pw` ...), so their
weights load with the upsampler renamed (weights/layouts/bsrn.py); they take RGB in [0, 1].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from srlab.models.attention import (
    CCA,
    ESA,
    ConvFactory,
    FeatureDistillation,
    PixelShuffleToImage,
    add_blocks,
    conv3x3,
    outputs_of_chain,
)
from srlab.models.blocks import check_choice, check_integer_scale, check_sizes, interpolate_bicubic
from srlab.utils.errors import SRLabError

VARIANTS = ("bsrn", "bsrn_s")
INPUT_COPIES = 4  # the head sees the input replicated 4 times (12 channels for RGB)
CCA_REDUCTION = 16  # BSRN's channel attention squeezes n_feats to n_feats // 16


class BSConv(nn.Module):
    """Blueprint separable convolution (BSConv-U, Haase & Amthor 2020): the 1x1 pointwise conv
    `pw` mixes the channels, then the 3x3 depthwise conv `dw` filters each channel alone."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        padding: int = 1,
        pointwise_bias: bool = False,
    ):
        super().__init__()
        self.pw = nn.Conv2d(in_channels, out_channels, 1, bias=pointwise_bias)
        self.dw = nn.Conv2d(
            out_channels, out_channels, 3, stride=stride, padding=padding, groups=out_channels
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dw(self.pw(x))


def blueprint_esa(n_feats: int, bsconv: ConvFactory, small: bool) -> ESA:
    """ESA as BSRN builds it: RFDN's (same keys, same pooling) on n_feats // 4 channels, with
    BSConvs for its 3x3 convs and GELU for ReLU; BSRN-S keeps the strided `conv2` a plain conv."""
    return ESA(n_feats, n_feats // 4, bsconv, F.gelu, strided_conv=conv3x3 if small else None)


class ESDB(FeatureDistillation):
    """Efficient separable distillation block: RFDB's steps with BSConvs and GELU (three of 1x1
    distil `c*_d`, BSConv refine `c*_r` plus its input; a last BSConv distil `c4`; the 1x1 fusion
    `c5`; ESA), then CCA (BSRN) or channel weights `cw` and the 1x1 `conv_out` (BSRN-S); plus the
    block's input."""

    def __init__(self, n_feats: int, bsconv: ConvFactory, small: bool):
        super().__init__(n_feats, bsconv, nn.GELU(), lambda: blueprint_esa(n_feats, bsconv, small))
        self.small = small
        if small:
            # The authors draw the channel weights from N(1, 0.2).
            self.cw = nn.Parameter(torch.normal(1.0, 0.2, size=(1, n_feats, 1, 1)))
            self.conv_out = nn.Conv2d(n_feats, n_feats, 1)
        else:
            self.cca = CCA(n_feats, CCA_REDUCTION)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        attended = super().forward(x)  # the distillation steps, then ESA
        attended = self.conv_out(attended * self.cw) if self.small else self.cca(attended)
        return attended + x


class BSRN(nn.Module):
    """Blueprint separable residual network; defaults are the paper's BSRN (8 ESDBs x 64).
    BSRN-S is variant="bsrn_s", n_feats=48, n_blocks=5."""

    def __init__(
        self,
        scale: int = 4,
        n_feats: int = 64,
        n_blocks: int = 8,
        variant: str = "bsrn",
        n_colors: int = 3,
        global_skip: bool = False,
    ):
        """
        Args:
            scale: upscaling factor (any integer >= 2: one pixel-shuffle step).
            n_feats: feature channels: at least 16 for BSRN (CCA squeezes n_feats // 16), at
                least 4 for BSRN-S (ESA works on n_feats // 4).
            n_blocks: number of ESDBs.
            variant: "bsrn" (the paper's net) or "bsrn_s" (the NTIRE 2022 challenge model).
            n_colors: image channels in and out (3 RGB, 1 gray).
            global_skip: add the bicubic upscale of the input (not in the paper).
        """
        super().__init__()
        check_integer_scale(scale)
        check_choice("model.variant", variant, VARIANTS)
        check_sizes(n_blocks=n_blocks, n_colors=n_colors)
        small = variant == "bsrn_s"
        least = 4 if small else CCA_REDUCTION
        if isinstance(n_feats, bool) or not n_feats >= least:
            inside = "ESA works on n_feats // 4" if small else "CCA squeezes n_feats // 16"
            raise SRLabError(
                f"model.n_feats={n_feats!r} must be >= {least} for {variant} ({inside} channels)"
            )
        self.scale = scale
        self.global_skip = global_skip
        self.input_channels = n_colors  # the head's conv takes INPUT_COPIES times as many

        def bsconv(in_channels: int, out_channels: int, **kwargs: int) -> BSConv:
            return BSConv(in_channels, out_channels, pointwise_bias=small, **kwargs)

        self.fea_conv = bsconv(INPUT_COPIES * n_colors, n_feats)
        blocks = [ESDB(n_feats, bsconv, small) for _ in range(n_blocks)]
        self.block_names = add_blocks(self, "B", blocks)
        self.c1 = nn.Conv2d(n_blocks * n_feats, n_feats, 1)
        self.c2 = bsconv(n_feats, n_feats)
        self.upsampler = PixelShuffleToImage(n_feats, scale, n_colors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) in [0, 1] -> (B, C, sH, sW)
        features = self.fea_conv(x.repeat(1, INPUT_COPIES, 1, 1))  # (B, 4C, H, W) -> (B, F, H, W)
        outputs = outputs_of_chain(self, self.block_names, features)
        fused = F.gelu(self.c1(torch.cat(outputs, dim=1)))
        y = self.upsampler(self.c2(fused) + features)  # long skip over all the blocks
        return y + interpolate_bicubic(x, self.scale) if self.global_skip else y
