"""The x8 geometric self-ensemble (EDSR+, RCAN+): a net's output averaged over the 8 symmetries
of the square (the dihedral group D4: identity, flips, 90° rotations and their compositions).

Each view t(x) goes through the net and is mapped back with t's inverse; the mean of the 8 is an
output that no longer depends on the image's orientation: ensemble(t(x)) == t(ensemble(x)).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

Forward = Callable[[Tensor], Tensor]
SPATIAL = (-2, -1)  # (H, W) of a (..., H, W) tensor


@dataclass(frozen=True)
class D4Transform:
    """Mirror left-right (if `flip`), then rotate by `quarter_turns` x 90° (as torch.rot90)."""

    quarter_turns: int
    flip: bool

    def __call__(self, x: Tensor) -> Tensor:
        """(..., H, W) -> (..., H, W), or (..., W, H) after an odd number of quarter turns."""
        if self.flip:
            x = x.flip(-1)
        return x.rot90(self.quarter_turns, SPATIAL)

    @property
    def inverse(self) -> D4Transform:
        # A rotation is undone by turning back; a mirrored turn is a reflection, its own inverse.
        return self if self.flip else D4Transform(-self.quarter_turns % 4, flip=False)


# The 4 views that keep (H, W) first, then the 4 that swap it to (W, H): the mean is summed in
# this order, so running the views in groups or one by one adds them in the same order.
TRANSFORMS = tuple(D4Transform(turns, flip) for turns in (0, 2, 1, 3) for flip in (False, True))


def self_ensemble(forward: Forward, x: Tensor, max_batch: int | None = None) -> Tensor:
    """Mean over the 8 views t of t.inverse(forward(t(x))): (N, C, H, W) -> forward's shape.

    Views of the same shape go through `forward` together, concatenated along the batch: one
    call of 8N images for a square input, two of 4N otherwise. `max_batch` caps the images per
    call (memory grows with it; max_batch=N gives each call the plain pass's batch, at 8x the
    calls). The mean is summed in at least float32, so a bf16 net's views are not re-rounded.
    """
    if max_batch is not None and max_batch < 1:
        raise ValueError(f"max_batch must be at least 1, got {max_batch}")
    square = x.shape[-2] == x.shape[-1]
    groups = [TRANSFORMS] if square else [TRANSFORMS[:4], TRANSFORMS[4:]]
    total: Tensor | None = None
    for group in groups:
        outputs = _batched(forward, torch.cat([t(x) for t in group]), max_batch)
        for t, output in zip(group, outputs.split(x.shape[0]), strict=True):
            view = t.inverse(output)
            view = view.to(torch.promote_types(view.dtype, torch.float32))
            total = view if total is None else total + view
    assert total is not None
    return total / len(TRANSFORMS)


def _batched(forward: Forward, batch: Tensor, max_batch: int | None) -> Tensor:
    """forward(batch), run in chunks of at most `max_batch` images."""
    if max_batch is None or batch.shape[0] <= max_batch:
        return forward(batch)
    return torch.cat([forward(chunk) for chunk in batch.split(max_batch)])
