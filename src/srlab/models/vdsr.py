"""VDSR (Kim et al., CVPR 2016): a deep plain conv net that refines the bicubic upscale.

The LR is bicubic-upscaled first (one net serves x2, x3 and x4); 20 3x3 convs with ReLU between
and zero padding learn the residual F(X), and Y = X + F(X). The papers' net runs on the Y channel
only (srlab.models.luma); `channels="rgb"` runs the same net on RGB.
"""

from __future__ import annotations

from torch import Tensor, nn

from srlab.models.blocks import check_integer_scale, check_sizes
from srlab.models.luma import (
    BicubicUpscale,
    check_channels,
    on_bicubic_upscale,
    plain_convs,
)
from srlab.utils.errors import SRLabError


class VDSR(nn.Module):
    """VDSR; defaults are the paper's (20 layers, 64 features, on Y)."""

    def __init__(self, scale: int = 2, n_layers: int = 20, n_feats: int = 64, channels: str = "y"):
        """
        Args:
            scale: upscaling factor, any integer >= 2 (the paper's one net serves x2, x3, x4).
            n_layers: number of 3x3 convs, the first and the last included (>= 2).
            n_feats: feature channels between the first and the last conv.
            channels: what the convs see: "y" (MATLAB's Y, the paper) or "rgb".
        """
        super().__init__()
        check_integer_scale(scale)
        check_sizes(n_feats=n_feats)
        if isinstance(n_layers, bool) or not isinstance(n_layers, int) or n_layers < 2:
            raise SRLabError(
                f"model.n_layers={n_layers!r} must be an integer >= 2 (the first conv makes the "
                "features, the last makes the residual image)"
            )
        image_channels = check_channels(channels)
        self.scale = scale
        self.channels = channels
        self.input_channels = 3  # RGB in and out, whatever the convs see
        self.upscale = BicubicUpscale(scale)  # MATLAB's, first: the convs refine it
        widths = [image_channels, *[n_feats] * (n_layers - 1), image_channels]
        self.body = plain_convs(widths, [3] * n_layers, padding="zeros")

    def forward(self, x: Tensor) -> Tensor:
        # (B, 3, h, w) RGB in [0, 1] -> (B, 3, sh, sw) RGB
        return on_bicubic_upscale(self.refine, self.upscale, x, self.channels)

    def refine(self, upscaled: Tensor) -> Tensor:
        # (B, C, sh, sw) bicubic upscale, C = 1 (Y) or 3 (RGB) -> the same shape
        return upscaled + self.body(upscaled)  # Y = X + F(X)
