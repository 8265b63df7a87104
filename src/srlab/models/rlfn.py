"""RLFN (Kong et al., CVPRW 2022): residual local feature network.

Head conv -> N residual local feature blocks (RLFB) -> conv, with a long skip -> pixel shuffle
straight to the image. RFDN without its distillation: an RLFB is three 3x3 conv-LeakyReLU
layers with a skip over them, a 1x1 conv and a light ESA (one conv in its context branch).

Defaults are the paper's RLFN (6 blocks x 52 channels). RLFN-S is n_feats=48; the NTIRE 2022
challenge model is n_feats=46, mid_channels=48, n_blocks=4 at x4. The authors' weights
(bytedance/RLFN) load as they are; they were trained on RGB 0-255 levels: img_range=255.
"""

from __future__ import annotations

import torch
from torch import nn

from srlab.models.attention import (
    LightESA,
    PixelShuffleToImage,
    add_blocks,
    leaky_relu,
    output_image,
    outputs_of_chain,
)
from srlab.models.blocks import check_img_range, check_sizes


class RLFB(nn.Module):
    """Residual local feature block: (conv-LeakyReLU) x 3 through `mid_channels`, plus the
    input; then the 1x1 `c5` and the light ESA."""

    def __init__(self, n_feats: int, mid_channels: int, esa_channels: int):
        super().__init__()
        self.c1_r = nn.Conv2d(n_feats, mid_channels, 3, padding=1)
        self.c2_r = nn.Conv2d(mid_channels, mid_channels, 3, padding=1)
        self.c3_r = nn.Conv2d(mid_channels, n_feats, 3, padding=1)
        self.c5 = nn.Conv2d(n_feats, n_feats, 1)
        self.esa = LightESA(n_feats, esa_channels)
        self.act = leaky_relu()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        residual = self.act(self.c1_r(x))
        residual = self.act(self.c2_r(residual))
        residual = self.act(self.c3_r(residual))
        return self.esa(self.c5(x + residual))


class RLFN(nn.Module):
    """Residual local feature network; defaults are the paper's RLFN (6 RLFBs x 52)."""

    def __init__(
        self,
        scale: int = 4,
        n_feats: int = 52,
        mid_channels: int | None = None,
        n_blocks: int = 6,
        esa_channels: int = 16,
        n_colors: int = 3,
        global_skip: bool = False,
        img_range: float = 1.0,
    ):
        """
        Args:
            scale: upscaling factor (any integer >= 2: one pixel-shuffle step).
            n_feats: feature channels between the blocks (RLFN 52, RLFN-S 48, NTIRE 46).
            mid_channels: channels inside each block's convs; None: n_feats (NTIRE model: 48).
            n_blocks: number of RLFBs.
            esa_channels: channels inside ESA.
            n_colors: image channels in and out (3 RGB, 1 gray).
            global_skip: add the bicubic upscale of the input (not in the paper).
            img_range: the net sees x * img_range and its output is divided by it: 255 for the
                authors' weights (trained on 0-255 levels).
        """
        super().__init__()
        mid_channels = n_feats if mid_channels is None else mid_channels
        check_sizes(
            n_feats=n_feats,
            mid_channels=mid_channels,
            n_blocks=n_blocks,
            esa_channels=esa_channels,
            n_colors=n_colors,
        )
        check_img_range(img_range)
        self.scale = scale
        self.global_skip = global_skip
        self.img_range = img_range
        self.conv_1 = nn.Conv2d(n_colors, n_feats, 3, padding=1)
        blocks = (RLFB(n_feats, mid_channels, esa_channels) for _ in range(n_blocks))
        self.block_names = add_blocks(self, "block_", blocks)
        self.conv_2 = nn.Conv2d(n_feats, n_feats, 3, padding=1)
        self.upsampler = PixelShuffleToImage(n_feats, scale, n_colors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) in [0, 1] -> (B, C, sH, sW)
        features = self.conv_1(x * self.img_range)
        deep = outputs_of_chain(self, self.block_names, features)[-1]
        y = self.upsampler(self.conv_2(deep) + features)  # long skip over all the blocks
        return output_image(y, x, self.scale, self.img_range, self.global_skip)
