"""What the nets that refine a bicubic upscale on the Y channel (SRCNN, VDSR) share: the papers'
protocol, MATLAB's bicubic upscale as a module, and their plain stack of convs.

As the papers' MATLAB test code: the net sees MATLAB `rgb2ycbcr`'s Y of the LR (double, 0-1,
so 16/255 to 235/255), upscaled by MATLAB's bicubic `imresize` without rounding; Cb and Cr are
upscaled the same way, and the colour result is MATLAB's `ycbcr2rgb` of the three. So these nets
take and give RGB in [0, 1] like every srlab net, and eval, upscale, tiling, the self-ensemble
and export need nothing of their own.
"""

from __future__ import annotations

import functools
from collections import OrderedDict
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from srlab.models.blocks import check_choice, check_integer_scale
from srlab.ops.color import rgb_to_ycbcr, ycbcr_to_rgb
from srlab.ops.imresize import imresize

CHANNELS = ("y", "rgb")  # what the convs see: the Y of MATLAB's YCbCr (the papers), or RGB
KERNEL_REACH = 3  # input pixels either side of an upscaled one that may weigh (cubic: 2)


def check_channels(channels: str) -> int:
    """The image channels the convs take for `model.channels`: 1 for "y", 3 for "rgb"."""
    check_choice("model.channels", channels, CHANNELS)
    return 1 if channels == "y" else 3


def on_bicubic_upscale(
    refine: Callable[[Tensor], Tensor], upscale: nn.Module, lr: Tensor, channels: str
) -> Tensor:
    """RGB (B, 3, h, w) in [0, 1] -> (B, 3, sh, sw): `refine` applied to the bicubic upscale of
    the LR's Y (channels="y") or of its RGB (channels="rgb"), in lr's dtype."""
    if channels == "rgb":
        return refine(upscale(lr))
    ycbcr = upscale(rgb_to_ycbcr(lr.to(torch.float64) * 255.0) / 255.0)  # Y, Cb, Cr in float64
    y = refine(ycbcr[:, :1].to(lr.dtype))  # (B, 1, sh, sw)
    sr = torch.cat([y.to(torch.float64), ycbcr[:, 1:]], dim=1)
    return (ycbcr_to_rgb(sr * 255.0) / 255.0).to(lr.dtype)


class BicubicUpscale(nn.Module):
    """MATLAB `imresize(x, scale, 'bicubic')` of float images, for an integer scale, in ops that
    export (ONNX, any H and W) and that autocast leaves in the input's dtype.

    srlab.ops.imresize plans its passes in Python from the image's size, which no export can
    follow. At an integer scale the weights repeat: output pixel s * k + p is the same taps,
    around input pixel k, for every k, and imresize's clamping of taps to the image is a
    replicated border. The taps are read off imresize's own output for unit impulses, so the
    formula stays in ops/imresize.py; the results agree to float64 rounding (1e-14).
    """

    def __init__(self, scale: int):
        super().__init__()
        check_integer_scale(scale)
        self.scale = scale
        # taps[p]: (offset from input pixel k, weight) of output pixel s * k + p
        self.taps = phase_taps(scale)
        self.reach = max(abs(offset) for phase in self.taps for offset, _ in phase)

    def forward(self, x: Tensor) -> Tensor:
        # (B, C, h, w) float -> (B, C, sh, sw), not rounded nor clipped
        return self.upscale_dim(self.upscale_dim(x, 2), 3)  # height first, as MATLAB

    def upscale_dim(self, x: Tensor, dim: int) -> Tensor:
        """Upscale dim 2 (height) or 3 (width): each phase a weighted sum of shifted views.
        Products and sums, not a convolution, which bf16 autocast would run in bf16."""
        length, reach = x.shape[dim], self.reach
        border = (0, 0, reach, reach) if dim == 2 else (reach, reach, 0, 0)  # (l, r, top, bottom)
        padded = F.pad(x, border, mode="replicate")
        phases = []
        for taps in self.taps:
            total = None
            for offset, weight in taps:  # in tap order, as imresize adds them
                term = padded.narrow(dim, reach + offset, length) * weight
                total = term if total is None else total + term
            phases.append(total)
        stacked = torch.stack(phases, dim=dim + 1)  # (..., length, s, ...): phase after pixel
        shape = list(x.shape)
        shape[dim] = length * self.scale
        return stacked.reshape(shape)


@functools.lru_cache(maxsize=16)
def phase_taps(scale: int) -> tuple[tuple[tuple[int, float], ...], ...]:
    """For each output phase p, the (input offset, weight) pairs of its nonzero taps, read off
    imresize's upscale of unit impulses far from the image's edges."""
    size = 4 * KERNEL_REACH + 4
    with torch.device("cpu"):  # also when the net is built on the meta device
        impulses = torch.eye(size, dtype=torch.float64)[None, None]  # column j: impulse at j
        response = imresize(impulses, size=(size * scale, size))[0, 0]  # (s * size, size)
    center = size // 2
    offsets = range(-KERNEL_REACH, KERNEL_REACH + 1)
    return tuple(
        tuple((o, float(row[center + o])) for o in offsets if row[center + o] != 0)
        for row in response[scale * center : scale * (center + 1)]
    )


def plain_convs(widths: Sequence[int], kernel_sizes: Sequence[int], padding: str) -> nn.Sequential:
    """conv1, relu1, conv2, ..., conv<n>: 'same' convs from widths[i - 1] to widths[i] channels,
    ReLU between. Named as the papers number their layers: keys `conv1.weight`, `conv1.bias` ..."""
    layers: dict[str, nn.Module] = {}
    for layer, kernel_size in enumerate(kernel_sizes, start=1):
        if layer > 1:
            layers[f"relu{layer - 1}"] = nn.ReLU(inplace=True)
        layers[f"conv{layer}"] = nn.Conv2d(
            widths[layer - 1],
            widths[layer],
            kernel_size,
            padding=kernel_size // 2,  # odd kernels: the output is as large as the input
            padding_mode=padding,
        )
    return nn.Sequential(OrderedDict(layers))
