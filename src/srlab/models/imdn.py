"""IMDN (Hui et al., ACM MM 2019): information multi-distillation network.

Head conv -> N information multi-distillation blocks (IMDB) -> 1x1 fusion of all the blocks'
outputs, then a conv, with a long skip -> pixel shuffle straight to the image. An IMDB runs
four convs in a row; after each of the first three it keeps (distils) a quarter of the channels
and refines the rest; the four distilled parts are concatenated, gated by contrast-aware channel
attention (CCA), fused by a 1x1 conv and added to the block's input.

Defaults are the paper's net (6 blocks of 64 channels, distillation rate 0.25). The authors'
weights (Zheng222/IMDN) load as they are, `module.` stripped; they take RGB in [0, 1]
(img_range=1: Set5 x2 38.00 dB, the paper's).
"""

from __future__ import annotations

import torch
from torch import nn

from srlab.models.attention import CCA, DistillationNet, leaky_relu
from srlab.models.blocks import check_sizes
from srlab.utils.errors import SRLabError


class IMDB(nn.Module):
    """Information multi-distillation block: conv c1..c4, distilling `distilled` channels after
    each; CCA and the 1x1 c5 over the four distilled parts; plus the input."""

    def __init__(self, n_feats: int, distilled: int, reduction: int = 16):
        super().__init__()
        self.distilled = distilled
        remaining = n_feats - distilled
        self.c1 = nn.Conv2d(n_feats, n_feats, 3, padding=1)
        self.c2 = nn.Conv2d(remaining, n_feats, 3, padding=1)
        self.c3 = nn.Conv2d(remaining, n_feats, 3, padding=1)
        self.c4 = nn.Conv2d(remaining, distilled, 3, padding=1)
        self.act = leaky_relu()
        self.c5 = nn.Conv2d(4 * distilled, n_feats, 1)
        self.cca = CCA(4 * distilled, reduction)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # (B, C, H, W) -> the distilled (B, d, H, W) and the remaining (B, C - d, H, W)
        return x[:, : self.distilled], x[:, self.distilled :]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        distilled_1, remaining = self.split(self.act(self.c1(x)))
        distilled_2, remaining = self.split(self.act(self.c2(remaining)))
        distilled_3, remaining = self.split(self.act(self.c3(remaining)))
        distilled_4 = self.c4(remaining)  # no activation on the last step
        distilled = torch.cat([distilled_1, distilled_2, distilled_3, distilled_4], dim=1)
        return x + self.c5(self.cca(distilled))


class IMDN(DistillationNet):
    """Information multi-distillation network; defaults are the paper's (6 IMDBs x 64)."""

    def __init__(
        self,
        scale: int = 2,
        n_feats: int = 64,
        n_blocks: int = 6,
        distillation_rate: float = 0.25,
        reduction: int = 16,
        n_colors: int = 3,
        global_skip: bool = False,
        img_range: float = 1.0,
    ):
        """
        Args:
            scale: upscaling factor (any integer >= 2: one pixel-shuffle step).
            n_feats: feature channels between the blocks.
            n_blocks: number of IMDBs.
            distillation_rate: the share of channels each step of a block keeps (distils):
                int(n_feats * distillation_rate), at least 1 and fewer than n_feats.
            reduction: CCA's channel reduction in its gate.
            n_colors: image channels in and out (3 RGB, 1 gray).
            global_skip: add the bicubic upscale of the input (not in the paper).
            img_range: the net sees x * img_range and its output is divided by it: 255 for
                weights trained on 0-255 levels.
        """
        check_sizes(n_feats=n_feats, n_blocks=n_blocks, reduction=reduction, n_colors=n_colors)
        distilled = int(n_feats * distillation_rate)
        if not 0 < distilled < n_feats:
            raise SRLabError(
                f"model.distillation_rate={distillation_rate!r} distils {distilled} of "
                f"{n_feats} channels; choose a rate that keeps at least one channel and leaves "
                "one (the paper's: 0.25)"
            )
        blocks = [IMDB(n_feats, distilled, reduction) for _ in range(n_blocks)]
        super().__init__(scale, n_feats, blocks, "IMDB", n_colors, global_skip, img_range)
