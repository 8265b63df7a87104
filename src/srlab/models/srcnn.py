"""SRCNN (Dong et al., ECCV 2014 / TPAMI 2016): three convs map the bicubic upscale to the SR.

Patch extraction (9x9, 64 features), non-linear mapping (5x5 or 1x1, 32 features) and
reconstruction (5x5), ReLU after the first two; the 9-5-5 and 9-1-5 nets of the paper. The
authors' test code filters every layer with `imfilter(..., 'same', 'replicate')`: correlation
(as torch's conv2d) with replicated borders, `padding="replicate"`. The papers' net runs on the Y
channel only (srlab.models.luma); `channels="rgb"` runs the same net on RGB.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from srlab.models.blocks import check_choice, check_integer_scale, check_positive
from srlab.models.luma import (
    BicubicUpscale,
    check_channels,
    on_bicubic_upscale,
    plain_convs,
)
from srlab.utils.errors import SRLabError

PADDINGS = ("zeros", "replicate")


class SRCNN(nn.Module):
    """SRCNN; defaults are the paper's 9-5-5 net (64 and 32 features, on Y)."""

    def __init__(
        self,
        scale: int = 3,
        kernel_sizes: Sequence[int] = (9, 5, 5),
        n_feats: Sequence[int] = (64, 32),
        channels: str = "y",
        padding: str = "replicate",
    ):
        """
        Args:
            scale: upscaling factor, any integer >= 2 (the authors train one net per scale).
            kernel_sizes: the odd kernel size of each conv: (9, 5, 5) or (9, 1, 5) in the paper.
            n_feats: features out of each conv but the last (one fewer than kernel_sizes).
            channels: what the convs see: "y" (MATLAB's Y, the paper) or "rgb".
            padding: "replicate" (the border of the authors' MATLAB test code) or "zeros".
        """
        super().__init__()
        check_integer_scale(scale)
        check_choice("model.padding", padding, PADDINGS)
        check_sizes(kernel_sizes, n_feats)
        image_channels = check_channels(channels)
        self.scale = scale
        self.channels = channels
        self.input_channels = 3  # RGB in and out, whatever the convs see
        self.upscale = BicubicUpscale(scale)  # MATLAB's, first: the convs refine it
        widths = [image_channels, *n_feats, image_channels]
        self.body = plain_convs(widths, kernel_sizes, padding)

    def forward(self, x: Tensor) -> Tensor:
        # (B, 3, h, w) RGB in [0, 1] -> (B, 3, sh, sw) RGB
        return on_bicubic_upscale(self.body, self.upscale, x, self.channels)


def check_sizes(kernel_sizes: Sequence[int], n_feats: Sequence[int]) -> None:
    """One odd kernel size per conv (a 'same' output needs a centre tap), one width between."""
    for kernel_size in kernel_sizes:
        check_positive("model.kernel_sizes", kernel_size)
        if kernel_size % 2 != 1:
            raise SRLabError(
                f"model.kernel_sizes={list(kernel_sizes)}: each must be odd "
                "(9-5-5 and 9-1-5 in the paper)"
            )
    for width in n_feats:
        check_positive("model.n_feats", width)
    if len(kernel_sizes) != len(n_feats) + 1:
        raise SRLabError(
            f"model.kernel_sizes={list(kernel_sizes)} and model.n_feats={list(n_feats)}: "
            "give one kernel size per conv and one width between two convs "
            "(kernel_sizes one longer than n_feats, e.g. [9, 5, 5] and [64, 32])"
        )
