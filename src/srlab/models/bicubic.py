"""The papers' bicubic baseline, as a net: `model=bicubic` in srlab.eval."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from srlab.ops.imresize import imresize


class Bicubic(nn.Module):
    """The papers' bicubic baseline as a net: MATLAB imresize of the uint8 LR, x `scale`.

    Takes and returns float images in [0, 1] like any srlab net, with any number of channels (a
    gray image stays gray). The LR is turned back into its uint8 levels first, which is exact for
    an LR read from a PNG, so the result is MATLAB's uint8 upscale to the last level.
    """

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def forward(self, lr: Tensor) -> Tensor:
        # (B, C, h, w) in [0, 1] -> (B, C, h * scale, w * scale)
        levels = lr.clamp(0, 1).mul(255).round().to(torch.uint8)
        return imresize(levels, scale=float(self.scale)).float().div_(255)
