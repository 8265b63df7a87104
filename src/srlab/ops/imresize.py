"""MATLAB `imresize(..., 'bicubic')` for tensors, bit-exact with MATLAB on uint8 images.

The SR protocol's LR images are MATLAB's bicubic downscales of the HR images, so the degradation
and the benchmarks must reproduce them exactly (`F.interpolate` matches only ~85-88% of MATLAB's
pixels). Three choices decide the last pixels. Each was settled against MATLAB's own outputs
(the MATLAB-made LR images in the shared test data, Set5 x2: 100% of pixels identical), where
the alternative matched fewer pixels:

- taps outside the image are clamped to the edge pixel, as imresize.m does; the mirror of some
  ports (aux = [1:in, in:-1:1]) matches 98.9-99.7%, missing only border pixels;
- a uint8 image is rounded half away from zero and saturated after each 1-D pass, because
  MATLAB's resampling mex returns the input class after each pass; keeping the intermediate in
  float matches 84.7-86.9%, rounding half to even 99.2-99.6%;
- the dimension with the smaller scale goes first, height on ties; width first matches 79-84%.

Two code paths give the same bits. On CPU, a uint8 image whose taps repeat within a short period
(the protocol's 1/2, 1/3 and 1/4, x2 and x4 upscaling, 0.7 and most other downscales) runs each
pass as strided float32 matrix products (BLAS, every core):

- at x2 and x4 (down or up) the weights are multiples of 2^-k, so every product and partial sum
  of uint8 levels is an integer number of 2^-k units below 2^24: float32 holds them exactly and
  the order of the additions cannot change the result;
- at other downscales (1/3, 0.7, ...) the float32 sums are not exact, and a sum of the
  reference's float64 products in another order could round a tie otherwise. A proven bound on
  |float32 sum - the reference's float64 tap-order sum| (about 1e-4, _tie_margin) leaves in
  doubt only the sums that close to a half-integer, exact ties included (none at 1/3, 0.08% at
  0.7 on Set5 and Set14): those take the reference's own level, its float64 products added in
  tap order (_settle_ties).

Everything else (other upscales, float images, other devices, long periods) sums the taps in
float64, in tap order, as the NumPy version does (embedding_bag, which adds in that order).
"""

import functools
import math
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

KERNEL_WIDTH = 4.0  # the cubic kernel is non-zero on (-2, 2)
# On CPU each pass runs in bands of output lines whose float64 input stays in cache: a full-size
# float64 copy of the image would cost more (page faults, memory traffic) than the resize itself.
CPU_BAND_BYTES = 1 << 20
# The strided matrix products (see the module docstring):
MAX_PERIOD = 32  # 0.7 repeats every 7 output lines, x8 upscaling every 8; a size such as
# 333/512 does not repeat soon: the embedding_bag path
MAX_DEVIATION = 1e-9  # weights that repeat to within this (float64 noise) count as periodic
MAX_TIE_MARGIN = 1e-2  # a wider margin (thousands of taps) would leave too many sums to settle
SEARCH_GROUP = 64  # sums per maximum when searching the few near a half-integer
# Output lines per kernel: an upscale's period (2 at x2) repeated up to 8 lines ran 7% faster at
# x2 than one period; a downscale's one period (1 line at 1/2 and 1/3) 15-20% faster than 8 lines
# (Set5 + Set14 at 1 thread; the products alone at 2 threads too).
UPSCALE_LINES_PER_BLOCK = 8
# float32 input lines read per matrix product; its outputs are rounded while in cache. 4 MiB ran
# 2-17% faster than 1 MiB at 1/2 to 0.7 (Set5 + Set14, 1 thread): fewer, larger operations.
EXACT_CHUNK_BYTES = 1 << 22
# Planes up to this size (float32, input or output) go side by side through one pass: fewer,
# larger products. A larger plane goes alone, where torch's blocked 2-D transpose is faster.
GROUP_BYTES = 1 << 24


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
    planes = _as_planes(image)
    scales, out_size = _resolve_target(tuple(planes.shape[1:]), scale, size)
    # MATLAB resizes the dimension with the smaller scale first; on equal scales, height first.
    order = sorted((0, 1), key=lambda dim: scales[dim])
    plans = _window_plans(planes, order, out_size, scales, antialias)
    if plans is not None:
        resized = _resize_windows(planes.transpose(1, 2) if order[0] == 1 else planes, *plans)
        resized = resized.transpose(1, 2) if order[0] == 1 else resized
    else:
        resized = planes
        for dim in order:
            resized = _resize_dim(
                resized, dim, out_size[dim], scales[dim], antialias, image.dtype == torch.uint8
            )
    resized = resized.to(image.dtype, memory_format=torch.contiguous_format)
    return resized.view(*image.shape[:-2], *out_size)


def _as_planes(image: Tensor) -> Tensor:
    """View any accepted layout as (N, H, W) planes, validating it."""
    if image.ndim not in (2, 3, 4):
        raise ValueError(
            f"imresize expects (H, W), (C, H, W) or (B, C, H, W); got shape {tuple(image.shape)}"
        )
    if image.dtype != torch.uint8 and not image.dtype.is_floating_point:
        raise ValueError(f"imresize expects uint8 or floating images; got {image.dtype}")
    return image.reshape(-1, *image.shape[-2:])


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


def _resize_dim(
    planes: Tensor, dim: int, out_len: int, scale: float, antialias: bool, round_to_uint8: bool
) -> Tensor:
    """Resize dim 0 (height) or 1 (width) of (N, H, W) planes, uint8 levels or float64.

    Width is resized as the height of a contiguous transposed copy: bands that read or write
    strided lines directly are slower than the two copies.
    """
    if dim == 1:
        transposed = planes.transpose(1, 2).contiguous()
        return _resize_height(transposed, out_len, scale, antialias, round_to_uint8).transpose(1, 2)
    return _resize_height(planes, out_len, scale, antialias, round_to_uint8)


def _resize_height(
    planes: Tensor, out_len: int, scale: float, antialias: bool, round_to_uint8: bool
) -> Tensor:
    """(N, in_len, K) -> (N, out_len, K): each output row a weighted sum of P input rows."""
    n_planes, in_len, row_len = planes.shape
    rows = planes.reshape(n_planes * in_len, row_len)
    out_dtype = torch.uint8 if round_to_uint8 else torch.float64
    out = torch.empty(n_planes * out_len, row_len, dtype=out_dtype, device=planes.device)
    for band in _bands(n_planes, in_len, out_len, row_len, scale, antialias, planes.device):
        sums = F.embedding_bag(
            band.indices,
            rows[band.first_row : band.stop_row].to(torch.float64),
            band.offsets,
            mode="sum",
            per_sample_weights=band.weights,
        )
        out[band.start : band.stop] = _round_for_uint8(sums) if round_to_uint8 else sums
    return out.view(n_planes, out_len, row_len)


class _Band(NamedTuple):
    """Output rows [start, stop) of the (N * out_len) rows of all planes, and their inputs.

    Each output row is a "bag" of embedding_bag: the weighted sum of its P input rows.
    embedding_bag fuses index_select with the multiply-and-sum over the taps and never
    materialises the (out_len, P, K) gathered tensor. On x86 CPUs its float64 kernel adds the
    products in tap order without FMA, as the NumPy version does, so the two agree to the last
    bit. Only the input rows [first_row, stop_row) are converted to float64, so on CPU a band
    stays in cache.
    """

    start: int
    stop: int
    first_row: int
    stop_row: int
    indices: Tensor  # (band_len * P,) relative to first_row
    offsets: Tensor  # (band_len,) where each bag starts in `indices`
    weights: Tensor  # (band_len * P,) float64


@functools.lru_cache(maxsize=64)
def _bands(
    n_planes: int,
    in_len: int,
    out_len: int,
    row_len: int,
    scale: float,
    antialias: bool,
    device: torch.device,
) -> tuple[_Band, ...]:
    """The bags of all N planes' output rows, in bands (a single band off the CPU)."""
    weights, indices = _contributions(in_len, out_len, scale, antialias)
    n_taps = weights.shape[1]
    plane_offsets = torch.arange(n_planes).view(-1, 1, 1) * in_len
    indices = (indices + plane_offsets).view(-1, n_taps)
    weights = weights.repeat(n_planes, 1)

    n_bags = n_planes * out_len
    band_len = n_bags
    if device.type == "cpu":
        band_len = max(1, int(CPU_BAND_BYTES * min(1.0, scale)) // (8 * row_len))
    bands = []
    for start in range(0, n_bags, band_len):
        stop = min(start + band_len, n_bags)
        first_row = int(indices[start:stop].min())
        stop_row = int(indices[start:stop].max()) + 1
        band = _Band(
            start,
            stop,
            first_row,
            stop_row,
            (indices[start:stop] - first_row).flatten().to(device),
            torch.arange(0, (stop - start) * n_taps, n_taps, device=device),
            weights[start:stop].flatten().to(device),
        )
        bands.append(band)
    return tuple(bands)


def _round_for_uint8(sums: Tensor, out: Tensor | None = None) -> Tensor:
    """Values whose cast to uint8 is MATLAB's: saturated, rounded half away from zero (into
    `out`, else in place).

    torch.round would round half to even. Adding 0.5 and clamping to [0, 255.5] leaves values
    whose truncation (what the cast to uint8 does) is the rounded, saturated level.
    """
    return torch.add(sums, 0.5, out=sums if out is None else out).clamp_(0, 255.5)


@functools.lru_cache(maxsize=64)
def _contributions(
    in_len: int, out_len: int, scale: float, antialias: bool
) -> tuple[Tensor, Tensor]:
    """imresize.m's `contributions`: (out_len, P) float64 weights and 0-based input indices."""
    weights, first_tap = _kernel(in_len, out_len, scale, antialias)
    taps = first_tap.unsqueeze(1) + torch.arange(weights.shape[1])
    indices = taps.clamp(0, in_len - 1)
    used = (weights != 0).any(dim=0)  # imresize.m drops taps that no output uses
    return weights[:, used].contiguous(), indices[:, used].contiguous()


def _kernel(in_len: int, out_len: int, scale: float, antialias: bool) -> tuple[Tensor, Tensor]:
    """(out_len, T) float64 weights of T consecutive taps, and each output's first tap (0-based,
    before clamping to the image)."""
    widened = scale < 1 and antialias  # widen the kernel to low-pass before subsampling
    width = KERNEL_WIDTH / scale if widened else KERNEL_WIDTH

    position = torch.arange(1, out_len + 1, dtype=torch.float64).unsqueeze(1)  # 1-based
    center = position / scale + 0.5 * (1 - 1 / scale)
    left = torch.floor(center - width / 2)
    taps = left + torch.arange(math.ceil(width) + 2, dtype=torch.float64)
    distance = center - taps
    weights = scale * _cubic(scale * distance) if widened else _cubic(distance)
    weights = weights / _sequential_row_sum(weights)
    return weights, left.squeeze(1).long() - 1


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


class _WindowPlan(NamedTuple):
    """One pass of a uint8 image as strided float32 matrix products: output line
    `period * block + phase` is kernel[phase] . input lines [first_tap + stride * block, ...
    + taps), clamped to the image.

    The kernel is exact where the weights allow (tie_margin 0: the x2 and x4 resizes). Else it
    holds the first period's weights rounded to float32, and a sum within `tie_margin` of a
    half-integer, where the float32 sum may round otherwise than the reference's float64 one,
    takes the reference's own level instead (_settle_ties)."""

    kernel: Tensor  # (period, taps) float32
    first_tap: int  # of output line 0, may be negative (clamped to line 0)
    stride: int  # input lines between consecutive blocks
    n_blocks: int
    out_len: int
    tie_margin: float
    in_len: int  # in_len, scale, antialias: the reference's contributions, for _settle_ties
    scale: float
    antialias: bool


def _window_plans(
    planes: Tensor,
    order: list[int],
    out_size: tuple[int, int],
    scales: tuple[float, float],
    antialias: bool,
) -> tuple[_WindowPlan, _WindowPlan] | None:
    """Plans of both passes of a uint8 image, in MATLAB's order, when both have one; else None.

    CPU only (where it was measured and verified; other devices keep the embedding_bag path),
    and only while float32 matrix products are IEEE: TF32 or bf16 products would be rounded
    beyond the bounds that make them exact or certify them."""
    if planes.dtype != torch.uint8 or planes.device.type != "cpu":
        return None
    if not _float32_matmul_is_ieee():
        return None
    in_size = planes.shape[1:]
    plans = tuple(_window_plan(in_size[d], out_size[d], scales[d], antialias) for d in order)
    return None if None in plans else plans


def _float32_matmul_is_ieee() -> bool:
    try:
        return torch.get_float32_matmul_precision() == "highest"
    except RuntimeError:  # torch's old and new precision settings disagree: assume the worst
        return False


@functools.lru_cache(maxsize=1024)  # a plan is a few hundred bytes; a benchmark set has ~80
def _window_plan(in_len: int, out_len: int, scale: float, antialias: bool) -> _WindowPlan | None:
    """The plan of one pass; None (the embedding_bag path) when its taps do not repeat within
    MAX_PERIOD output lines, or when its sums are not exact in float32 and either their tie
    margin is over MAX_TIE_MARGIN or they upscale. An upscale's output is large and its
    half-way phases tie often, so this path gained nothing there (Set5, 1 thread, NumPy's time
    over torch's: x3 5.0 with this path vs 5.1 with embedding_bag, x1.5 2.0 vs 3.3)."""
    weights, first_tap = _kernel(in_len, out_len, scale, antialias)
    period, stride = _period(weights, first_tap)
    if period == 0:
        return None
    repeats = max(1, UPSCALE_LINES_PER_BLOCK // period) if scale > 1 else 1
    period, stride = min(out_len, period * repeats), stride * repeats
    offsets = (first_tap[:period] - first_tap[0]).tolist()
    kernel = torch.zeros(period, weights.shape[1] + max(offsets), dtype=torch.float64)
    for phase, offset in enumerate(offsets):
        kernel[phase, offset : offset + weights.shape[1]] = weights[phase]
    used = kernel.ne(0).any(dim=0).nonzero().flatten().tolist()  # trim taps no phase uses
    kernel = kernel[:, used[0] : used[-1] + 1].contiguous()
    margin = 0.0
    deviation = _deviation(weights, period)
    if deviation > 0 or not _exact_in_float32(weights[:period]):
        margin = _tie_margin(weights, kernel, deviation)
        if scale > 1 or margin > MAX_TIE_MARGIN:
            return None
    return _WindowPlan(
        kernel.to(torch.float32),
        int(first_tap[0]) + used[0],
        stride,
        math.ceil(out_len / period),
        out_len,
        margin,
        in_len,
        scale,
        antialias,
    )


def _period(weights: Tensor, first_tap: Tensor) -> tuple[int, int]:
    """(period, stride): output line i + period has line i's taps, `stride` input lines
    further on, and its weights to within MAX_DEVIATION; (0, 0) when no period up to MAX_PERIOD
    fits."""
    out_len = len(weights)
    for period in range(1, MAX_PERIOD + 1):
        if period >= out_len:
            return out_len, 1  # a single block: the stride is never used
        steps = first_tap[period:] - first_tap[:-period]
        if bool((steps == steps[0]).all()) and _deviation(weights, period) <= MAX_DEVIATION:
            return period, int(steps[0])
    return 0, 0


def _deviation(weights: Tensor, period: int) -> float:
    """max over output lines i of sum |weights[i] - weights[i % period]|: how far the weights of
    the first period are from each line's own (0 where they repeat exactly)."""
    first_period = weights[torch.arange(len(weights)) % period]
    return float((weights - first_period).abs().sum(dim=1).max())


def _exact_in_float32(weights: Tensor) -> bool:
    """Whether uint8 levels times these weights, summed in any order, plus the 0.5 of rounding,
    are exact in float32: all weights multiples of 2^-bits, and the largest magnitude a partial
    sum can reach below 2^24 such units."""
    largest = 255 * float(weights.abs().sum(dim=1).max()) + 0.5
    for bits in range(1, 24):
        units = weights * 2.0**bits
        if torch.equal(units, units.round()):
            return largest * 2.0**bits < 2**24
    return False


def _tie_margin(weights: Tensor, kernel: Tensor, deviation: float) -> float:
    """A bound on |float32 kernel sum - the reference's float64 sum| on uint8 levels, with some
    slack: a sum farther than this from a half-integer rounds as the reference's does.

    Both approximate the exact S = sum_p w_p x_p, |S| <= 255 max sum |w| =: A. A dot product of
    n nonzero terms, added in any order, with or without FMA, is within gamma_n * A of its exact
    value, gamma_n = n u / (1 - n u), u = 2^-24 in float32, 2^-53 in float64 (Higham, Accuracy
    and Stability of Numerical Algorithms, 3.1); terms that are exactly zero add nothing. The
    kernel's weights differ from each line's own by their float32 rounding (u sum |w|) and the
    period's `deviation`: A u + 255 deviation more. The slack covers the reference's + 0.5
    (2^-53 * 256) and the float32 threshold (2^-25)."""
    u32, u64 = 2.0**-24, 2.0**-53
    n_float32 = int(kernel.ne(0).sum(dim=1).max())
    n_float64 = weights.shape[1]
    largest = 255 * (float(weights.abs().sum(dim=1).max()) + deviation)
    float32_sum = n_float32 * u32 / (1 - n_float32 * u32) * largest
    kernel_weights = largest * u32 + 255 * deviation
    reference = n_float64 * u64 / (1 - n_float64 * u64) * largest
    return float32_sum + kernel_weights + reference + 2.0**-20


def _resize_windows(planes: Tensor, first: _WindowPlan, second: _WindowPlan) -> Tensor:
    """uint8 (N, H, W) -> uint8 (N, first.out_len, second.out_len): resize dim 1, round to
    levels, then dim 2. Small planes go side by side (G per line: fewer, larger products)."""
    n_planes, height, width = planes.shape
    plane_len = max(height * width, first.out_len * second.out_len)
    group = max(1, GROUP_BYTES // (4 * plane_len))
    out = torch.empty(n_planes, first.out_len, second.out_len, dtype=torch.uint8)
    for start in range(0, n_planes, group):
        lines = planes[start : start + group].permute(1, 2, 0)  # (H, W, G)
        rows = _window_pass(lines, first, intermediate=True)  # (out H, W, G)
        columns = _window_pass(rows.transpose(0, 1), second, intermediate=False)
        target = out[start : start + group].permute(2, 1, 0)
        if target.shape[-1] == 1:  # the blocked 2-D transpose takes one dtype
            _copy_lines(target, columns.to(torch.uint8))
        else:  # converting while transposing: one pass, 40% faster than two
            target.copy_(columns)
    return out


def _window_pass(source: Tensor, plan: _WindowPlan, intermediate: bool) -> Tensor:
    """(in_len, W, G) levels, any layout -> (out_len, W, G) float32: each output line is
    `plan.kernel` times its window of input lines, rounded: values whose truncation is MATLAB's
    rounded, saturated level, or for an intermediate result the levels themselves, which MATLAB
    keeps between passes."""
    in_len, *line_shape = source.shape
    period, taps = plan.kernel.shape
    padded, pad_before = _padded_lines(source, plan)
    line_len = padded.shape[1]
    windows = padded.as_strided(
        (plan.n_blocks, taps, line_len),
        (plan.stride * line_len, line_len, 1),
        (plan.first_tap + pad_before) * line_len,
    )  # block b reads input lines [first_tap + stride * b, ... + taps), read in place
    out = torch.empty(plan.out_len, line_len)
    for lines, sums in _products(plan, windows):
        if plan.tie_margin:
            _round_settled(sums, out[lines], lines.start, plan, padded, pad_before)
        else:  # exact sums: + 0.5 and saturated, truncation rounds them half up
            _round_for_uint8(sums, out=out[lines])
            if intermediate:
                out[lines].floor_()
    return out.view(plan.out_len, *line_shape)


def _padded_lines(source: Tensor, plan: _WindowPlan) -> tuple[Tensor, int]:
    """(lines, line_len) float32 copy of the (in_len, ...) `source`, with the lines before and
    after the image that the windows read (copies of the edge lines); and how many come before."""
    in_len, *line_shape = source.shape
    taps = plan.kernel.shape[1]
    pad_before = max(0, -plan.first_tap)
    pad_after = max(0, plan.first_tap + plan.stride * (plan.n_blocks - 1) + taps - in_len)
    padded = torch.empty(pad_before + in_len + pad_after, *line_shape)
    _copy_lines(padded[pad_before : pad_before + in_len], source)  # to float32 in one copy
    padded[:pad_before] = padded[pad_before]  # taps outside the image take the edge line
    padded[pad_before + in_len :] = padded[pad_before + in_len - 1]
    return padded.view(len(padded), -1), pad_before


def _products(plan: _WindowPlan, windows: Tensor) -> Iterator[tuple[slice, Tensor]]:
    """The kernel times the windows, a chunk of blocks at a time: (the chunk's output lines,
    their (lines, line_len) sums), less any lines past out_len. The sums are overwritten by the
    next chunk; they are still in cache when taken."""
    period, line_len = len(plan.kernel), windows.shape[2]
    chunk = max(1, EXACT_CHUNK_BYTES // (4 * max(plan.stride, period) * line_len))
    scratch = torch.empty(min(chunk, plan.n_blocks), period, line_len)
    for block in range(0, plan.n_blocks, chunk):
        blocks = scratch[: plan.n_blocks - block]
        torch.matmul(plan.kernel, windows[block : block + chunk], out=blocks)
        lines = slice(block * period, min((block + chunk) * period, plan.out_len))
        yield lines, blocks.view(-1, line_len)[: lines.stop - lines.start]


def _round_settled(
    sums: Tensor,
    rounded: Tensor,
    first_line: int,
    plan: _WindowPlan,
    padded: Tensor,
    pad_before: int,
) -> None:
    """Levels of float32 sums that are not exact: each rounded to the nearest integer and
    saturated, except those within plan.tie_margin of a half-integer, which take the
    reference's own level (_settle_ties); `sums` are lost.

    |sum - round(sum)| is exact in float32 (Sterbenz's lemma), so the search misses none.
    round() rounds half to even, unlike MATLAB, but no sum left to it is near a half."""
    offset = sums.sub_(torch.round(sums, out=rounded))  # in [-0.5, 0.5]
    threshold = 0.5 - plan.tie_margin
    lowest, highest = torch.aminmax(offset)
    if max(-float(lowest), float(highest)) > threshold:  # rare, and none at some scales
        near = _indices_above(offset.abs_().view(-1), threshold)
        _settle_ties(rounded.numpy(), near, first_line, plan, padded.numpy(), pad_before)
    rounded.clamp_(0, 255)


# The search and the settling run in NumPy on views of the tensors, but for the group maxima: a
# few dozen operations on small arrays, which cost torch several microseconds each.


def _indices_above(values: Tensor, threshold: float) -> np.ndarray:
    """Indices of the 1-D `values` above `threshold`. The search takes the maxima of SEARCH_GROUP
    slices of the values, element by element (one vectorised pass), then looks only at the few
    columns whose maximum is above: a comparison on every value would cost several times more."""
    n_columns = len(values) // SEARCH_GROUP
    whole = n_columns * SEARCH_GROUP
    maxima = values[:whole].view(SEARCH_GROUP, n_columns).amax(dim=0).numpy()
    values = values.numpy()
    columns = np.flatnonzero(maxima > threshold)
    candidates = (np.arange(SEARCH_GROUP)[:, None] * n_columns + columns).ravel()
    near = candidates[values[candidates] > threshold]
    return np.concatenate([near, whole + np.flatnonzero(values[whole:] > threshold)])


def _settle_ties(
    rounded: np.ndarray,
    near: np.ndarray,
    first_line: int,
    plan: _WindowPlan,
    padded: np.ndarray,
    pad_before: int,
) -> None:
    """Put the reference's level at the flat indices `near` of the (lines, line_len) levels of
    output lines [first_line, ...): the float64 products of its weights and taps (clamped, as
    _contributions gives them), added one tap after the other, then rounded half up and
    saturated, as imresize_numpy (and the embedding_bag path) computes every output."""
    line_len = rounded.shape[1]
    line, position = near // line_len + first_line, near % line_len
    weights, taps = _contributions(plan.in_len, plan.out_len, plan.scale, plan.antialias)
    offsets = (taps.numpy()[line] + pad_before) * line_len + position[:, None]
    products = weights.numpy()[line] * padded.ravel()[offsets]  # (near, P) float64
    total = products[:, 0].copy()
    for column in products[:, 1:].T:
        total += column
    rounded.ravel()[near] = np.floor(np.clip(total + 0.5, 0, 255.5))  # as _round_for_uint8


def _copy_lines(target: Tensor, source: Tensor) -> None:
    """target.copy_(source) for (L, W, G); with G = 1 as 2-D, where a transposed source takes
    torch's blocked transpose (several times faster on large planes)."""
    if target.shape[-1] == 1:
        target, source = target[..., 0], source[..., 0]
    target.copy_(source)
