"""Pixel losses and their weighted sum, composed from config."""

from __future__ import annotations

import torch
from torch import nn


class CharbonnierLoss(nn.Module):
    """sqrt((x - y)^2 + eps^2): a smooth L1 that is differentiable at zero (LapSRN)."""

    def __init__(self, eps: float = 1e-3):
        super().__init__()
        self.eps = eps

    def forward(self, sr: torch.Tensor, hr: torch.Tensor) -> torch.Tensor:
        return torch.sqrt((sr - hr) ** 2 + self.eps**2).mean()


class WeightedLoss(nn.Module):
    """Sum of named loss terms, each with a weight; returns the total and each term."""

    def __init__(self, terms: dict[str, nn.Module], weights: dict[str, float] | None = None):
        super().__init__()
        if not terms:
            raise ValueError("module.loss.terms is empty: give at least one loss, e.g. l1")
        weights = dict(weights or {})
        unknown = set(weights) - set(terms)
        if unknown:
            raise ValueError(f"module.loss.weights has keys without a term: {sorted(unknown)}")
        self.terms = nn.ModuleDict(terms)
        self.weights = {name: float(weights.get(name, 1.0)) for name in terms}

    def forward(
        self, sr: torch.Tensor, hr: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        values = {name: term(sr, hr) for name, term in self.terms.items()}
        total = sum(self.weights[name] * value for name, value in values.items())
        return total, values
