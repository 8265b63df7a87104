"""What the tests of a family against its paper share: the authors' published files (under
../shared/data/published; a test that reads one skips where it is absent), the scores srlab gives
a net on a benchmark set, and the tolerance of a score against a recorded one."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from rich.progress import Progress

from conftest import BENCHMARKS, SHARED_DATA
from helpers.images import SET5
from srlab.data.sets import BenchmarkSet
from srlab.eval import evaluate_set
from srlab.weights.layouts import unwrap

PUBLISHED = SHARED_DATA / "published"
WHOLE_IMAGES = (None, 32, False)  # no tiles, no self-ensemble: as `python -m srlab.eval`
# A score agrees with one recorded (by srlab, or a paper to its decimals) within these.
PSNR_TOLERANCE = 0.05
SSIM_TOLERANCE = 0.0005
# srlab measures 0.0002 to 0.0006 above the SSIM of the Y-channel papers (SRCNN, VDSR).
Y_PAPER_SSIM_TOLERANCE = 0.001


def published_file(name: str) -> Path:
    """../shared/data/published/<name> (e.g. "rfdn/RFDN_AIM.pth"); the test skips where it is
    absent."""
    path = PUBLISHED / name
    if not path.is_file():
        pytest.skip(f"{path} not found: the published weights are in ../shared/data")
    return path


def published_weights(name: str) -> dict[str, torch.Tensor]:
    """The state dict in a published file as srlab reads it (BasicSR's `params` unwrapped,
    DataParallel's `module.` stripped)."""
    return unwrap(torch.load(published_file(name), map_location="cpu", weights_only=True))


def benchmark_scores(net: torch.nn.Module, scale: int, name: str = "Set5") -> tuple[float, float]:
    """The set's mean PSNR and SSIM as `python -m srlab.eval` scores them (Set5 ships inside
    srlab; the other sets are in ../shared/data/benchmarks)."""
    folder = SET5 if name == "Set5" else BENCHMARKS / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not found: the benchmarks are in ../shared/data")
    with Progress(disable=True) as progress:
        scores = evaluate_set(
            net, BenchmarkSet(name, folder, scale), torch.device("cpu"), WHOLE_IMAGES, progress
        )
    return scores["psnr"], scores["ssim"]


def assert_scores(scores: tuple[float, float], psnr: float, ssim: float | None = None) -> None:
    """(PSNR, SSIM) within PSNR_TOLERANCE of `psnr` and SSIM_TOLERANCE of `ssim` (when given:
    some papers print PSNR only)."""
    assert abs(scores[0] - psnr) < PSNR_TOLERANCE, scores
    if ssim is not None:
        assert abs(scores[1] - ssim) < SSIM_TOLERANCE, scores
