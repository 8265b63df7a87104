"""What a net costs: its parameters."""

from __future__ import annotations

from torch import nn


def count_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
