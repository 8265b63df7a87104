"""Learning-rate schedules with linear warm-up, as LambdaLR so they resume from checkpoints."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def warmup_factor(step: int, warmup_steps: int) -> float:
    return min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0


class WarmupCosine(LambdaLR):
    """Linear warm-up, then cosine decay to `min_lr_ratio` of the base rate at `total_steps`."""

    def __init__(
        self,
        optimizer: Optimizer,
        total_steps: int,
        warmup_steps: int = 0,
        min_lr_ratio: float = 0.0,
    ):
        def factor(step: int) -> float:
            progress = min(1.0, max(0, step - warmup_steps) / max(1, total_steps - warmup_steps))
            cosine = min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
            return warmup_factor(step, warmup_steps) * cosine

        super().__init__(optimizer, factor)


class WarmupMultiStep(LambdaLR):
    """Linear warm-up, then the rate times `gamma` at each milestone (EDSR: halve every 200k)."""

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Sequence[int],
        gamma: float = 0.5,
        warmup_steps: int = 0,
    ):
        def factor(step: int) -> float:
            decays = sum(step >= milestone for milestone in milestones)
            return warmup_factor(step, warmup_steps) * gamma**decays

        super().__init__(optimizer, factor)
