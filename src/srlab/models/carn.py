"""CARN and CARN-M (Ahn et al., ECCV 2018): cascading residual network.

Head conv `entry` -> N cascading blocks -> pixel-shuffle upsampler -> `exit` conv, on the input
minus its mean (the mean is added back). The cascade: the head's output and every block's
output so far are concatenated, and a 1x1 conv-ReLU (`c1`, `c2` ...) fuses them into the next
block's input. Each cascading block repeats the same cascade inside, over residual blocks.

CARN-M (`mobile=True, groups=4`), the mobile net: its residual blocks are efficient ones (two
3x3 group convs and a 1x1 conv) and each cascading block applies one such block at every step
(the weights are shared: `b1` only); the upsampler's convs are group convs too.

Submodules keep the authors' names (nmhkahn/CARN-pytorch); their multi-scale file holds one
upsampler per scale, and weights/layouts/carn.py keeps the asked one. They take RGB in [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from srlab.models.attention import add_blocks
from srlab.models.blocks import (
    DIV2K_RGB_MEAN,
    PixelShuffleUpsampler,
    check_scale_in,
    check_sizes,
    interpolate_bicubic,
    mean_buffer,
)
from srlab.utils.errors import SRLabError

SCALES = (2, 3, 4, 8)


def fuse(in_channels: int, out_channels: int) -> nn.Sequential:
    """The cascade's 1x1 conv-ReLU over the concatenated outputs."""
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.ReLU(inplace=True))


def cascade(
    net: nn.Module, x: torch.Tensor, unit_names: Sequence[str], fuse_names: Sequence[str]
) -> torch.Tensor:
    """o_0 = x; o_k = c_k([x, b_1(o_0), ..., b_k(o_{k-1})]): each unit's output joins all the
    earlier ones, and the k-th 1x1 fusion turns them into the next unit's input."""
    concatenated = out = x
    for unit, fusion in zip(unit_names, fuse_names, strict=True):
        concatenated = torch.cat([concatenated, getattr(net, unit)(out)], dim=1)
        out = getattr(net, fusion)(concatenated)
    return out


class ResidualBlock(nn.Module):
    """relu(x + conv-ReLU-conv(x)); efficient=True is CARN-M's: relu(x + conv-ReLU-conv-ReLU-
    1x1(x)), whose 3x3 convs are group convs meant to be cheap, the 1x1 mixing the groups."""

    def __init__(self, n_feats: int, groups: int, efficient: bool):
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv2d(n_feats, n_feats, 3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv2d(n_feats, n_feats, 3, padding=1, groups=groups),
        ]
        if efficient:
            layers += [nn.ReLU(inplace=True), nn.Conv2d(n_feats, n_feats, 1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.body(x))


class CascadingBlock(nn.Module):
    """The local cascade over n_resblocks residual blocks `b1` ... (CARN-M: `b1` at every
    step) with their 1x1 fusions `c1` ..."""

    def __init__(self, n_feats: int, n_resblocks: int, groups: int, mobile: bool):
        super().__init__()
        n_units = 1 if mobile else n_resblocks
        units = [ResidualBlock(n_feats, groups, efficient=mobile) for _ in range(n_units)]
        names = add_blocks(self, "b", units)
        self.unit_names = names * n_resblocks if mobile else names  # mobile: b1, b1, b1
        fusions = [fuse((step + 2) * n_feats, n_feats) for step in range(n_resblocks)]
        self.fuse_names = add_blocks(self, "c", fusions)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return cascade(self, x, self.unit_names, self.fuse_names)


class CARN(nn.Module):
    """Cascading residual network; defaults are the paper's CARN (3 x 3 blocks x 64). CARN-M is
    mobile=True, groups=4."""

    def __init__(
        self,
        scale: int = 4,
        n_feats: int = 64,
        n_blocks: int = 3,
        n_resblocks: int = 3,
        groups: int = 1,
        mobile: bool = False,
        n_colors: int = 3,
        mean_shift: bool = True,
        rgb_mean: Sequence[float] = DIV2K_RGB_MEAN,
        global_skip: bool = False,
    ):
        """
        Args:
            scale: upscaling factor: 2, 3, 4 or 8.
            n_feats: feature channels throughout; a multiple of groups.
            n_blocks: number of cascading blocks.
            n_resblocks: residual blocks (cascade steps) in each cascading block.
            groups: groups of the 3x3 convs in the residual blocks and the upsampler (CARN 1,
                CARN-M 4).
            mobile: CARN-M's efficient residual blocks, one per cascading block, shared by its
                steps.
            n_colors: image channels in and out (3 RGB, 1 gray).
            mean_shift: subtract rgb_mean from the input and add it back to the output.
            rgb_mean: the RGB mean on the [0, 1] scale (DIV2K's, as the authors'; RGB nets only).
            global_skip: add the bicubic upscale of the input instead of the mean (not in the
                paper).
        """
        super().__init__()
        check_scale_in(scale, SCALES, "CARN")
        check_sizes(
            n_feats=n_feats,
            n_blocks=n_blocks,
            n_resblocks=n_resblocks,
            groups=groups,
            n_colors=n_colors,
        )
        if n_feats % groups:
            raise SRLabError(
                f"model.groups={groups} does not divide model.n_feats={n_feats}; "
                "use a divisor (CARN-M: 4 groups of 64 features)"
            )
        self.scale = scale
        self.global_skip = global_skip
        self.register_buffer("rgb_mean", mean_buffer(rgb_mean, mean_shift, n_colors))
        self.entry = nn.Conv2d(n_colors, n_feats, 3, padding=1)
        blocks = [CascadingBlock(n_feats, n_resblocks, groups, mobile) for _ in range(n_blocks)]
        self.block_names = add_blocks(self, "b", blocks)
        fusions = [fuse((step + 2) * n_feats, n_feats) for step in range(n_blocks)]
        self.fuse_names = add_blocks(self, "c", fusions)
        # The authors' steps are conv, ReLU, shuffle; conv, shuffle, ReLU is the same function
        # (the shuffle only moves values) with the convs at the same keys, upsample.<3k>.
        self.upsample = PixelShuffleUpsampler(scale, n_feats, act="relu", groups=groups)
        self.exit = nn.Conv2d(n_feats, n_colors, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (B, C, H, W) in [0, 1] -> (B, C, sH, sW)
        features = self.entry(x - self.rgb_mean)
        features = cascade(self, features, self.block_names, self.fuse_names)
        y = self.exit(self.upsample(features))
        return y + (interpolate_bicubic(x, self.scale) if self.global_skip else self.rgb_mean)
