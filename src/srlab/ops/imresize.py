"""MATLAB `imresize(..., 'bicubic')` for tensors, bit-exact with MATLAB on uint8 images.

The SR protocol's LR images are MATLAB's bicubic downscales of the HR images, so the degradation
and the benchmarks must reproduce it exactly, not approximately (`F.interpolate` matches only
~85-88% of MATLAB's pixels). Three choices decide the last pixels; each was checked against
MATLAB's own outputs in `shared/data/matlab_bicubic` (Set5 x2), where any other choice loses
1-20% of the pixels:

- taps outside the image are clamped to the edge pixel (replicated), as imresize.m does, not
  mirrored as some ports do (a mirror misses ~1% of pixels, all on the border);
- a uint8 image is rounded half away from zero and saturated to 0-255 after each 1-D pass,
  because MATLAB's resampling mex returns the input class after each pass;
- the dimension with the smaller scale goes first; on equal scales, height before width.
"""

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor

KERNEL_WIDTH = 4.0  # the cubic kernel is non-zero on (-2, 2)


def imresize(
    image: Tensor,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    antialias: bool = True,
) -> Tensor:
    """Resize (H, W), (C, H, W) or (B, C, H, W) images as MATLAB's bicubic `imresize` does.

    Exactly one of `scale` (output = ceil(input * scale), and the weights use `scale` itself,
    not output/input) or `size` (out_h, out_w). uint8 images come back uint8, rounded as MATLAB
    rounds them; floating images come back in their dtype, computed in float64, not clamped.
    """
    batch = _as_batch(image)
    in_size = tuple(batch.shape[-2:])
    scales, out_size = _resolve_target(in_size, scale, size)
    round_each_pass = image.dtype == torch.uint8

    # Each pass resizes the leading dimension of a (length, rest) matrix, so the rows it gathers
    # are contiguous: (B, C, H, W) -> (first, second, B, C).
    first, second = sorted((0, 1), key=lambda dim: scales[dim])
    rows = batch.permute(first + 2, second + 2, 0, 1)
    rows = rows.to(torch.float64, memory_format=torch.contiguous_format)
    rows = rows.view(in_size[first], -1)
    rows = _resize_rows(rows, out_size[first], scales[first], antialias, round_each_pass)
    # (out_first, second * B * C) -> (second, out_first * B * C)
    rows = rows.view(out_size[first], in_size[second], -1).transpose(0, 1)
    rows = rows.reshape(in_size[second], -1)
    rows = _resize_rows(rows, out_size[second], scales[second], antialias, round_each_pass)

    resized = rows.view(out_size[second], out_size[first], *batch.shape[:2])
    layout = (second, first)
    resized = resized.permute(2, 3, layout.index(0), layout.index(1))
    out = torch.empty(resized.shape, dtype=image.dtype, device=image.device)
    out.copy_(resized)
    return out.view(*image.shape[:-2], *out_size)


def _as_batch(image: Tensor) -> Tensor:
    """View any accepted layout as (B, C, H, W), validating it."""
    if image.ndim not in (2, 3, 4):
        raise ValueError(
            f"imresize expects (H, W), (C, H, W) or (B, C, H, W); got shape {tuple(image.shape)}"
        )
    if image.dtype != torch.uint8 and not image.dtype.is_floating_point:
        raise ValueError(f"imresize expects uint8 or floating images; got {image.dtype}")
    return image if image.ndim == 4 else image.reshape(1, -1, *image.shape[-2:])


def _resolve_target(
    in_size: tuple[int, int], scale: float | None, size: tuple[int, int] | None
) -> tuple[tuple[float, float], tuple[int, int]]:
    """Per-dimension (scales, output size) from exactly one of scale or size, as MATLAB does."""
    if (scale is None) == (size is None):
        raise ValueError(f"give exactly one of scale or size; got scale={scale}, size={size}")
    if scale is not None:
        if not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be a positive number; got {scale}")
        out_size = (math.ceil(in_size[0] * scale), math.ceil(in_size[1] * scale))
        return (scale, scale), out_size
    if len(size) != 2 or any(int(length) != length or length < 1 for length in size):
        raise ValueError(f"size must be two positive integers (out_h, out_w); got {size}")
    out_size = (int(size[0]), int(size[1]))
    return (out_size[0] / in_size[0], out_size[1] / in_size[1]), out_size


def _resize_rows(
    rows: Tensor, out_len: int, scale: float, antialias: bool, round_to_uint8: bool
) -> Tensor:
    """(in_len, M) -> (out_len, M): each output row is a weighted sum of P input rows."""
    weights, indices = _contributions_on(rows.shape[0], out_len, scale, antialias, rows.device)
    # embedding_bag is index_select + multiply-and-sum over the P taps in one kernel, so the
    # (out_len, P, M) gathered tensor is never materialised.
    out = F.embedding_bag(indices, rows, mode="sum", per_sample_weights=weights)
    if round_to_uint8:
        # MATLAB rounds half away from zero (torch.round rounds half to even), after saturating.
        out = out.clamp_(0, 255).add_(0.5).floor_()
    return out


@functools.lru_cache(maxsize=64)
def _contributions_on(
    in_len: int, out_len: int, scale: float, antialias: bool, device: torch.device
) -> tuple[Tensor, Tensor]:
    """The cached contributions, moved once to the device that needs them."""
    weights, indices = _contributions(in_len, out_len, scale, antialias)
    return weights.to(device), indices.to(device)


@functools.lru_cache(maxsize=64)
def _contributions(in_len: int, out_len: int, scale: float, antialias: bool) -> tuple[Tensor, Tensor]:
    """imresize.m's `contributions`: (out_len, P) float64 weights and 0-based input indices."""
    widened = scale < 1 and antialias  # widen the kernel to low-pass before subsampling
    width = KERNEL_WIDTH / scale if widened else KERNEL_WIDTH

    position = torch.arange(1, out_len + 1, dtype=torch.float64).unsqueeze(1)  # 1-based
    center = position / scale + 0.5 * (1 - 1 / scale)
    left = torch.floor(center - width / 2)
    taps = left + torch.arange(math.ceil(width) + 2, dtype=torch.float64)
    distance = center - taps
    weights = scale * _cubic(scale * distance) if widened else _cubic(distance)
    weights = weights / _sequential_row_sum(weights)

    indices = (taps.long() - 1).clamp(0, in_len - 1)
    used = (weights != 0).any(dim=0)  # imresize.m drops taps that no output uses
    return weights[:, used].contiguous(), indices[:, used].contiguous()


def _cubic(x: Tensor) -> Tensor:
    """Keys' cubic convolution kernel with a = -0.5, as in imresize.m."""
    absx = x.abs()
    absx2 = absx * absx
    absx3 = absx2 * absx
    inner = (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1)
    outer = (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * ((absx > 1) & (absx <= 2))
    return inner + outer


def _sequential_row_sum(weights: Tensor) -> Tensor:
    """Row sums added left to right, so the NumPy version can reproduce them to the last bit."""
    total = torch.zeros(weights.shape[0], 1, dtype=weights.dtype)
    for column in weights.unbind(dim=1):
        total[:, 0] += column
    return total
