"""MATLAB `imresize(..., 'bicubic')` in plain NumPy, one output row at a time.

An independent second implementation of `srlab.ops.imresize`, in the style of BasicSR's
`imresize_np`: the speed baseline for benchmarks and a cross-check for tests. Not used by the
product, which calls the batched PyTorch version.
"""

import math

import numpy as np

KERNEL_WIDTH = 4.0  # the cubic kernel is non-zero on (-2, 2)


def imresize_numpy(
    image: np.ndarray,
    scale: float | None = None,
    size: tuple[int, int] | None = None,
    antialias: bool = True,
) -> np.ndarray:
    """Resize an (H, W) or (H, W, C) uint8 or float image as MATLAB's bicubic `imresize` does.

    Exactly one of `scale` (output = ceil(input * scale)) or `size` (out_h, out_w) is given.
    uint8 images come back uint8, rounded after each 1-D pass as MATLAB does; float images come
    back in their dtype, computed in float64, neither rounded nor clamped.
    """
    if image.ndim not in (2, 3):
        raise ValueError(f"imresize_numpy expects (H, W) or (H, W, C); got shape {image.shape}")
    if scale is not None and size is None:
        if not scale > 0:
            raise ValueError(f"scale must be positive; got {scale}")
        scales = (scale, scale)
        out_size = tuple(math.ceil(length * scale) for length in image.shape[:2])
    elif size is not None and scale is None:
        out_size = tuple(size)
        scales = tuple(out / length for out, length in zip(out_size, image.shape[:2], strict=True))
    else:
        raise ValueError("give exactly one of scale or size")

    is_uint8 = image.dtype == np.uint8
    result = image.astype(np.float64)
    # MATLAB resizes the dimension with the smaller scale first (a stable sort: height on ties).
    for axis in sorted((0, 1), key=lambda axis: scales[axis]):
        weights, indices = _contributions(
            result.shape[axis], out_size[axis], scales[axis], antialias
        )
        result = _resize_axis(result, axis, weights, indices)
        if is_uint8:
            result = _round_to_uint8_levels(result)
    return result.astype(image.dtype)


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5, as in imresize.m."""
    absx = np.abs(x)
    absx2 = absx * absx
    absx3 = absx2 * absx
    inner = (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1)
    outer = (-0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2) * ((absx > 1) & (absx <= 2))
    return inner + outer


def _contributions(
    in_len: int, out_len: int, scale: float, antialias: bool
) -> tuple[np.ndarray, np.ndarray]:
    """imresize.m's `contributions`: (out_len, P) weights and 0-based input indices."""
    width = KERNEL_WIDTH
    if scale < 1 and antialias:
        width = KERNEL_WIDTH / scale  # widen the kernel to low-pass before subsampling

    position = np.arange(1, out_len + 1, dtype=np.float64)[:, None]  # 1-based, as MATLAB
    center = position / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(center - width / 2)
    indices = left + np.arange(math.ceil(width) + 2)
    distance = center - indices
    if scale < 1 and antialias:
        weights = scale * _cubic(scale * distance)
    else:
        weights = _cubic(distance)
    weights = weights / _sequential_row_sum(weights)

    # MATLAB clamps out-of-range indices (replicating the edge pixels), not a mirror: the mirror
    # of some imresize.m ports misses MATLAB's own outputs at the borders (see the torch version).
    indices = np.clip(indices.astype(np.int64) - 1, 0, in_len - 1)

    used = np.any(weights != 0, axis=0)
    return weights[:, used], indices[:, used]


def _sequential_row_sum(weights: np.ndarray) -> np.ndarray:
    """Row sums added left to right; np.sum's pairwise order would differ from torch's by an ulp."""
    total = np.zeros((weights.shape[0], 1))
    for column in weights.T:
        total[:, 0] += column
    return total


def _resize_axis(
    image: np.ndarray, axis: int, weights: np.ndarray, indices: np.ndarray
) -> np.ndarray:
    """Each output row along `axis` is its weights vector times the input rows it draws on."""
    rows = np.moveaxis(image, axis, 0)
    out = np.empty((weights.shape[0], *rows.shape[1:]))
    taps = (-1,) + (1,) * (rows.ndim - 1)
    for row in range(weights.shape[0]):
        # Products, then a sum over the taps in order: the torch version adds them in the same
        # order, whereas a BLAS dot (np.tensordot) would reorder them and flip rare .5 ties.
        out[row] = (weights[row].reshape(taps) * rows[indices[row]]).sum(axis=0)
    return np.moveaxis(out, 0, axis)


def _round_to_uint8_levels(image: np.ndarray) -> np.ndarray:
    """Clamp to [0, 255] and round half up (np.round would round half to even, unlike MATLAB)."""
    return np.floor(np.clip(image, 0, 255) + 0.5)
