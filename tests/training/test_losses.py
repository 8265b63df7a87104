"""training/losses.py: Charbonnier and the weighted sum of named terms, also composed from config.

The pair is a real SR error: a Set5 crop and its bicubic down-up (x2) reconstruction.
"""

from functools import cache

import pytest
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import nn

from helpers.images import set5
from srlab.data.degradation import bicubic_downscale, bicubic_upscale
from srlab.ops.pixels import to_float
from srlab.training.losses import CharbonnierLoss, WeightedLoss


@cache
def _sr_hr_pair() -> tuple[torch.Tensor, torch.Tensor]:
    """(sr, hr) float (1, 3, 64, 64) in [0, 1]: bicubic down-up of a baby crop, and the crop."""
    hr = set5("baby")[200:264, 200:264]
    sr = bicubic_upscale(bicubic_downscale(hr, 2), 2)
    return to_float(sr)[None], to_float(hr)[None]


def test_total_is_the_weighted_sum_of_the_terms():
    sr, hr = _sr_hr_pair()
    loss = WeightedLoss({"l1": nn.L1Loss(), "mse": nn.MSELoss()}, {"l1": 0.3, "mse": 2.0})
    total, _ = loss(sr, hr)
    torch.testing.assert_close(total, 0.3 * F.l1_loss(sr, hr) + 2.0 * F.mse_loss(sr, hr))


def test_a_term_without_weight_counts_once():
    sr, hr = _sr_hr_pair()
    loss = WeightedLoss({"l1": nn.L1Loss(), "mse": nn.MSELoss()}, {"mse": 4.0})
    total, _ = loss(sr, hr)
    torch.testing.assert_close(total, F.l1_loss(sr, hr) + 4.0 * F.mse_loss(sr, hr))


def test_each_term_is_returned_unweighted_by_name():
    sr, hr = _sr_hr_pair()
    loss = WeightedLoss({"l1": nn.L1Loss(), "mse": nn.MSELoss()}, {"l1": 0.3, "mse": 2.0})
    _, terms = loss(sr, hr)
    assert list(terms) == ["l1", "mse"]
    torch.testing.assert_close(terms["l1"], F.l1_loss(sr, hr))
    torch.testing.assert_close(terms["mse"], F.mse_loss(sr, hr))


def test_gradient_flows_through_the_total():
    sr, hr = _sr_hr_pair()
    sr = sr.clone().requires_grad_()
    total, _ = WeightedLoss({"l1": nn.L1Loss()}, {"l1": 2.0})(sr, hr)
    total.backward()
    torch.testing.assert_close(sr.grad, 2.0 * torch.sign(sr - hr) / sr.numel())


def test_empty_terms_are_an_error():
    with pytest.raises(ValueError, match="terms is empty"):
        WeightedLoss({})


def test_weight_for_an_unknown_term_is_an_error_naming_it():
    with pytest.raises(ValueError, match="perceptual"):
        WeightedLoss({"l1": nn.L1Loss()}, {"l1": 1.0, "perceptual": 0.1})


def test_charbonnier_approaches_l1_as_eps_goes_to_zero():
    sr, hr = _sr_hr_pair()
    l1 = F.l1_loss(sr, hr).double()
    gaps = []
    for eps in (1e-1, 1e-2, 1e-3, 1e-5):
        gap = CharbonnierLoss(eps)(sr.double(), hr.double()) - l1
        assert 0 <= gap <= eps  # |d| <= sqrt(d^2 + eps^2) <= |d| + eps
        gaps.append(float(gap))
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-5


def test_charbonnier_is_eps_at_zero_error():
    _, hr = _sr_hr_pair()
    value = CharbonnierLoss(eps=1e-3)(hr, hr)
    assert value > 0
    torch.testing.assert_close(value, torch.tensor(1e-3))


def test_loss_composed_from_config_sums_l1_mse_and_charbonnier():
    config = {
        "_target_": "srlab.training.losses.WeightedLoss",
        "terms": {
            "l1": {"_target_": "torch.nn.L1Loss"},
            "mse": {"_target_": "torch.nn.MSELoss"},
            "charbonnier": {"_target_": "srlab.training.losses.CharbonnierLoss", "eps": 1e-2},
        },
        "weights": {"l1": 1.0, "mse": 0.5, "charbonnier": 2.0},
    }
    loss = instantiate(config)
    sr, hr = _sr_hr_pair()
    total, terms = loss(sr, hr)
    charbonnier = torch.sqrt((sr - hr) ** 2 + 1e-4).mean()
    expected = F.l1_loss(sr, hr) + 0.5 * F.mse_loss(sr, hr) + 2.0 * charbonnier
    torch.testing.assert_close(total, expected)
    assert set(terms) == {"l1", "mse", "charbonnier"}
    torch.testing.assert_close(terms["charbonnier"], charbonnier)
