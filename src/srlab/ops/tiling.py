"""Run an SR net over large images in overlapping tiles, so memory is bounded by the tile size.

A convolution near a tile's edge sees zero padding where the whole image has real pixels, so a
tile's output is only trusted away from its edges. Tiles of `tile` x `tile` LR pixels overlap by
at least `overlap`, and each output pixel is taken from the tile whose edge is farther from it
(the overlap is cut in its middle), so every kept pixel has at least `overlap // 2` LR pixels of
real context on each side. Once that context covers the net's receptive field the result equals
a whole-image pass up to float rounding; a wider receptive field sees little beyond that
distance, so the difference stays small (tests/ops/test_tiling.py checks it stays under 0.01 dB).
Cropping, rather than blending the overlaps, never mixes in a pixel computed next to a tile edge.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import pairwise

from torch import Tensor

Net = Callable[[Tensor], Tensor]


def tiled_forward(
    net: Net,
    lr: Tensor,
    scale: int,
    tile: int | None,
    overlap: int = 32,
    on_tile: Callable[[], None] | None = None,
) -> Tensor:
    """net(lr) computed tile by tile: (B, C, h, w) -> (B, C', h * scale, w * scale).

    `tile` and `overlap` are in LR pixels; `tile=None` (or 0), or an image no larger than one
    tile, runs the whole image at once. All tiles have the same size, spread evenly over the
    image, and a tile is cut from every image of the batch at once; the output stays on `lr`'s
    device. `on_tile` is called after each of the `tile_count` passes (a progress bar's step).
    """
    height, width = lr.shape[-2:]
    if not tile or (height <= tile and width <= tile):
        out = net(lr)
        if on_tile is not None:
            on_tile()
        return out
    if tile <= overlap:
        raise ValueError(f"tile ({tile}) must be larger than the overlap ({overlap})")

    sr: Tensor | None = None
    for rows, kept_rows in _spans(height, tile, overlap):
        for cols, kept_cols in _spans(width, tile, overlap):
            out = net(lr[..., rows, cols])  # (B, C', tile * s, tile * s)
            if sr is None:
                sr = out.new_empty(*out.shape[:2], height * scale, width * scale)
            sr[..., _hr(kept_rows, scale), _hr(kept_cols, scale)] = out[
                ..., _hr(kept_rows, scale, rows.start), _hr(kept_cols, scale, cols.start)
            ]
            if on_tile is not None:
                on_tile()
    assert sr is not None
    return sr


def tile_count(height: int, width: int, tile: int | None, overlap: int = 32) -> int:
    """The passes `tiled_forward` makes over an LR image of height x width: 1 when it is whole."""
    if not tile or (height <= tile and width <= tile):
        return 1
    return len(_spans(height, tile, overlap)) * len(_spans(width, tile, overlap))


def _spans(length: int, tile: int, overlap: int) -> list[tuple[slice, slice]]:
    """Along one axis, (the tile, the part of it that is kept) for every tile, in LR pixels.

    The fewest tiles that overlap by at least `overlap`, spread evenly from end to end;
    consecutive tiles hand over in the middle of their overlap, so the kept parts partition
    [0, length).
    """
    tile = min(tile, length)
    n_tiles = math.ceil((length - overlap) / (tile - overlap)) if tile < length else 1
    starts = [i * (length - tile) // max(1, n_tiles - 1) for i in range(n_tiles)]
    handovers = [(start + tile + next_start) // 2 for start, next_start in pairwise(starts)]
    cuts = [0, *handovers, length]
    return [
        (slice(start, start + tile), slice(cuts[i], cuts[i + 1])) for i, start in enumerate(starts)
    ]


def _hr(lr_span: slice, scale: int, origin: int = 0) -> slice:
    """An LR span as HR pixels, counted from LR pixel `origin`."""
    return slice((lr_span.start - origin) * scale, (lr_span.stop - origin) * scale)
