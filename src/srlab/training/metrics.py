"""torchmetrics wrappers over ops/quality.py: the SR protocol's PSNR and SSIM over a whole set.

Both average per-image values, as the papers' tables do (not one PSNR of all pixels pooled).
The states are a float64 sum and a count, reduced by summing, so DDP ranks combine exactly.
"""

import torch
from torch import Tensor
from torchmetrics import Metric

from srlab.ops.quality import psnr, ssim


class _PerImageMean(Metric):
    """Mean over images of a per-image score from ops/quality.py; subclasses pick the score."""

    higher_is_better = True
    is_differentiable = False
    full_state_update = False

    def __init__(self, border: int, y_channel: bool = True) -> None:
        super().__init__()
        self.border = border
        self.y_channel = y_channel
        self.add_state("score_sum", torch.tensor(0.0, dtype=torch.float64), dist_reduce_fx="sum")
        self.add_state("num_images", torch.tensor(0, dtype=torch.long), dist_reduce_fx="sum")

    def _score(self, sr: Tensor, hr: Tensor) -> Tensor:
        raise NotImplementedError

    def update(self, sr: Tensor, hr: Tensor) -> None:
        """Add a (B, C, H, W) batch of results and references (uint8, or float in [0, 1])."""
        scores = self._score(sr, hr)
        self.score_sum += scores.sum()
        self.num_images += scores.numel()

    def compute(self) -> Tensor:
        """The mean per-image score so far (+inf for PSNR if any image was reproduced exactly)."""
        return self.score_sum / self.num_images


class PSNR(_PerImageMean):
    """Mean per-image PSNR (dB) on Y (gray values for gray images), `border` pixels shaved."""

    def _score(self, sr: Tensor, hr: Tensor) -> Tensor:
        return psnr(sr, hr, self.border, self.y_channel)


class SSIM(_PerImageMean):
    """Mean per-image SSIM (valid-region Gaussian SSIM) on Y, `border` pixels shaved."""

    def _score(self, sr: Tensor, hr: Tensor) -> Tensor:
        return ssim(sr, hr, self.border, self.y_channel)
