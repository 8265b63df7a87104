"""Whole-image super-resolution as validation and eval both run it (one code path)."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from srlab.ops import ensemble
from srlab.ops.color import gray_from_rgb
from srlab.ops.tiling import tile_count, tiled_forward
from srlab.utils.errors import SRLabError


def input_channels(net: nn.Module) -> int | None:
    """The channels the net's first convolution takes; None for a net without one (bicubic)."""
    declared = getattr(net, "input_channels", None)  # wrapped nets (spandrel, ONNX) say it
    if isinstance(declared, int):
        return declared
    first = next((m for m in net.modules() if isinstance(m, nn.Conv2d)), None)
    return first.in_channels if first is not None else None


def super_resolve(
    net: nn.Module,
    lr: Tensor,
    scale: int,
    tile: int | None = None,
    tile_overlap: int = 32,
    self_ensemble: bool = False,
    on_tile: Callable[[], None] | None = None,
) -> Tensor:
    """Float (B, C, h, w) LR in [0, 1] -> (B, C, sh, sw) SR clamped to [0, 1], C as the LR's.

    A gray LR is replicated for an RGB net, whose output is made gray again (the protocol
    scores gray images on their gray values); images larger than `tile` go through in tiles.
    `self_ensemble` averages the 8 flipped and rotated views (EDSR+), each tiled like the plain
    pass and run with its batch, so it fits wherever the plain pass does and takes 8x the time.
    `on_tile` is called after each pass of the net (`passes` counts them), for a progress bar.
    """
    channels = input_channels(net)
    gray_through_rgb = lr.shape[1] == 1 and channels == 3
    if gray_through_rgb:
        lr = lr.expand(-1, 3, -1, -1)
    elif channels is not None and lr.shape[1] != channels:
        raise SRLabError(
            f"the net takes {channels}-channel images but the LR has {lr.shape[1]} channels"
        )

    def forward(views: Tensor) -> Tensor:
        return tiled_forward(net, views.contiguous(), scale, tile, tile_overlap, on_tile)

    if self_ensemble:  # each call takes the plain pass's batch: no more memory than without
        sr = ensemble.self_ensemble(forward, lr, max_batch=lr.shape[0])
    else:
        sr = forward(lr)
    sr = sr.float().clamp_(0, 1)  # after the ensemble's mean: views may overshoot either way
    return gray_from_rgb(sr) if gray_through_rgb else sr


def passes(
    height: int, width: int, tile: int | None, tile_overlap: int = 32, self_ensemble: bool = False
) -> int:
    """The net's passes over an LR image of height x width in `super_resolve`: its tiles, for
    each of the 8 views with `self_ensemble`."""
    views = len(ensemble.TRANSFORMS) if self_ensemble else 1  # one call per view: max_batch
    return tile_count(height, width, tile, tile_overlap) * views
