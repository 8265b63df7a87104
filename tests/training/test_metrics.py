"""training/metrics.py: the Metric classes average per-image ops/quality.py scores over a set."""

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import SET5
from srlab.ops.quality import psnr, ssim
from srlab.training.metrics import PSNR, SSIM

SCALE = 2


def _set5_pairs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """(sr, hr) uint8 (1, 3, H, W) pairs: Set5 HR (mod-cropped) and a PIL bicubic down-up copy."""
    paths = sorted(SET5.glob("*.png"))
    assert len(paths) == 5
    pairs = []
    for path in paths:
        hr = Image.open(path).convert("RGB")
        hr = hr.crop((0, 0, hr.width - hr.width % SCALE, hr.height - hr.height % SCALE))
        sr = hr.resize((hr.width // SCALE, hr.height // SCALE), Image.BICUBIC).resize(hr.size)
        pairs.append((_tensor(sr), _tensor(hr)))
    return pairs


def _tensor(image: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1)[None]


def _crops(pairs, size: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-left crops of all pairs, stacked into one (N, 3, size, size) batch of each."""
    sr = torch.cat([sr[..., :size, :size] for sr, _ in pairs])
    hr = torch.cat([hr[..., :size, :size] for _, hr in pairs])
    return sr, hr


@pytest.mark.parametrize(("metric_class", "score"), [(PSNR, psnr), (SSIM, ssim)])
def test_compute_is_the_mean_of_per_image_scores(metric_class, score):
    pairs = _set5_pairs()
    metric = metric_class(border=SCALE)
    for sr, hr in pairs:
        metric.update(sr, hr)
    per_image = torch.cat([score(sr, hr, SCALE) for sr, hr in pairs])
    assert metric.compute().item() == pytest.approx(per_image.mean().item(), abs=1e-12)


@pytest.mark.parametrize("metric_class", [PSNR, SSIM])
def test_a_batch_counts_as_its_images(metric_class):
    sr, hr = _crops(_set5_pairs())
    batched, one_by_one = metric_class(border=SCALE), metric_class(border=SCALE)
    batched.update(sr, hr)
    for i in range(len(sr)):
        one_by_one.update(sr[i : i + 1], hr[i : i + 1])
    assert batched.num_images.item() == len(sr)
    assert batched.compute().item() == pytest.approx(one_by_one.compute().item(), abs=1e-12)


@pytest.mark.parametrize("metric_class", [PSNR, SSIM])
def test_float_output_is_scored_like_its_saved_uint8(metric_class):
    sr, hr = _crops(_set5_pairs())
    from_float, from_uint8 = metric_class(border=SCALE), metric_class(border=SCALE)
    from_float.update(sr.float() / 255, hr)
    from_uint8.update(sr, hr)
    assert from_float.compute().item() == from_uint8.compute().item()


def test_reset_forgets_earlier_updates():
    pairs = _set5_pairs()
    metric = PSNR(border=SCALE)
    metric.update(*pairs[0])
    metric.reset()
    metric.update(*pairs[1])
    assert metric.compute().item() == psnr(*pairs[1], SCALE).item()


def test_merged_states_give_the_mean_over_both_shards():
    """merge_state reduces states with their dist_reduce_fx, as a DDP sync does across ranks."""
    pairs = _set5_pairs()
    first, second = SSIM(border=SCALE), SSIM(border=SCALE)
    for sr, hr in pairs[:2]:
        first.update(sr, hr)
    for sr, hr in pairs[2:]:
        second.update(sr, hr)
    first.merge_state(second)
    per_image = torch.cat([ssim(sr, hr, SCALE) for sr, hr in pairs])
    assert first.compute().item() == pytest.approx(per_image.mean().item(), abs=1e-12)
    assert first.score_sum.dtype == torch.float64


def test_metrics_declare_their_direction():
    assert PSNR.higher_is_better and SSIM.higher_is_better
    assert not PSNR.full_state_update and not SSIM.full_state_update
