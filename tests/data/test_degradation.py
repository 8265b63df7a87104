"""data/degradation.py and ops/blur.py: BD against the RDN authors' MATLAB-made LR, DN's noise,
and one degradation per conf/degradation/ option, named and seeded as the training data,
validation and eval take it."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import SHARED_DATA, needs_shared_data
from helpers.images import SET5_NAMES, set5
from srlab.data.datasets import TrainPatches, ValImages
from srlab.data.degradation import (
    Bicubic,
    BicubicNoise,
    BlurDownsample,
    Degradation,
    bicubic_downscale,
)
from srlab.data.io import read_image
from srlab.utils.hydra import compose_config, config_dir, instantiate

RDN_SET5_X3 = SHARED_DATA / "degradations" / "rdn_set5_x3"
OPTIONS = sorted(path.stem for path in (Path(config_dir()) / "degradation").glob("*.yaml"))


@needs_shared_data
def test_bd_is_the_rdn_authors_lr_on_every_pixel() -> None:
    """Their Prepare_TestData_HR_LR.m: fspecial('gaussian', 7, 1.6), imfilter 'replicate' on
    uint8, imresize(..., 1/3, 'nearest')."""
    bd = instantiate(compose_config("train", ["degradation=bd", "logger=none"]).degradation)
    for name in SET5_NAMES:
        hr = read_image(RDN_SET5_X3 / "HR" / f"{name}_HR_x3.png")
        expected = read_image(RDN_SET5_X3 / "LRBD" / f"{name}_LRBD_x3.png")
        np.testing.assert_array_equal(bd.degrade(hr, 3, name), expected)


def matlab_bd_even(hr: np.ndarray, scale: int, sigma: float) -> np.ndarray:
    """The authors' even-scale BD written out tap by tap: an ceil(3 sigma)*2+2 kernel centred
    (as imfilter centres it) on tap floor((size+1)/2), replicate padding, rounding half away
    from zero, then rows and columns s/2:s:end-s/2 (1-based)."""
    size = math.ceil(3 * sigma) * 2 + 2
    x = np.arange(size) - (size - 1) / 2
    kernel = np.exp(-(x[:, None] ** 2 + x[None, :] ** 2) / (2 * sigma**2))
    kernel /= kernel.sum()
    centre = (size + 1) // 2 - 1
    padded = np.pad(hr.astype(np.float64), ((centre, size - 1 - centre),) * 2 + ((0, 0),), "edge")
    height, width = hr.shape[:2]
    blurred = np.zeros(hr.shape, np.float64)
    for i in range(size):
        for j in range(size):
            blurred += kernel[i, j] * padded[i : i + height, j : j + width]
    rounded = np.clip(np.floor(blurred + 0.5), 0, 255).astype(np.uint8)
    keep = slice(scale // 2 - 1, height - scale // 2, scale)
    return rounded[keep, keep]


@pytest.mark.parametrize("scale", [2, 4])
def test_bd_at_even_scales_follows_the_authors_even_rule(scale: int) -> None:
    hr = set5("butterfly")[:96, :96]
    bd = BlurDownsample(sigma=1.6)
    assert bd.size_at(scale) == 12
    np.testing.assert_array_equal(bd.downscale(hr, scale), matlab_bd_even(hr, scale, 1.6))


def test_dn_adds_gaussian_noise_on_levels_rounded_and_saturated() -> None:
    lr = np.full((64, 64, 3), 128, np.uint8)
    lr[:16] = 0  # saturates below
    generator = torch.Generator().manual_seed(5)
    noisy = BicubicNoise(sigma=30).perturb(lr, generator)
    noise = torch.randn(3, 64, 64, generator=torch.Generator().manual_seed(5)).mul_(30)
    levels = torch.from_numpy(lr).permute(2, 0, 1).float() + noise
    expected = np.clip(np.floor(levels.numpy() + 0.5), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(noisy, expected.transpose(1, 2, 0))
    assert abs(float(noisy[16:].astype(float).std()) - 30) < 1
    assert noisy.dtype == np.uint8 and noisy[:16].min() == 0


def test_a_test_images_noise_is_fixed_by_its_name_and_seed() -> None:
    hr = set5("bird")[:96, :96]
    dn = BicubicNoise(sigma=30, seed=0)
    first = dn.degrade(hr, 3, "bird")
    np.testing.assert_array_equal(first, BicubicNoise(sigma=30, seed=0).degrade(hr, 3, "bird"))
    assert not np.array_equal(first, dn.degrade(hr, 3, "other"))
    assert not np.array_equal(first, BicubicNoise(sigma=30, seed=1).degrade(hr, 3, "bird"))
    assert np.abs(first.astype(int) - bicubic_downscale(hr, 3)).mean() > 10


def test_training_noise_is_drawn_per_sample_from_the_seeded_rng() -> None:
    hr = set5("bird")[:96, :96]
    patches = TrainPatches([hr], 2, 96, augment=False, degradation=BicubicNoise())
    torch.manual_seed(0)
    first, second = patches[0]["lr"], patches[0]["lr"]
    assert not torch.equal(first, second)  # the same whole-image crop, new noise
    torch.manual_seed(0)
    assert torch.equal(patches[0]["lr"], first)


def test_validation_images_take_the_degradation_and_their_bicubic_is_of_its_lr() -> None:
    hr = set5("head")[:96, :90]
    (image,) = ValImages({"head": hr}, 3, BlurDownsample()).items
    np.testing.assert_array_equal(image.lr, BlurDownsample().downscale(hr, 3))
    (noisy,) = ValImages({"head": hr}, 3, BicubicNoise()).items
    np.testing.assert_array_equal(noisy.lr, BicubicNoise().degrade(hr, 3, "head"))


@pytest.mark.parametrize("option", OPTIONS)
def test_every_degradation_option_makes_lr_of_hr_over_the_scale(option: str) -> None:
    degradation = instantiate(compose_config("eval", [f"degradation={option}"]).degradation)
    assert isinstance(degradation, Degradation)
    hr = set5("woman")[:96, :72]
    for scale in (2, 3, 4):
        lr = degradation.degrade(hr, scale, "woman")
        assert lr.shape == (96 // scale, 72 // scale, 3) and lr.dtype == np.uint8


def test_each_degradation_has_its_own_name() -> None:
    names = [
        instantiate(compose_config("eval", [f"degradation={option}"]).degradation).name
        for option in OPTIONS
    ]
    assert len(set(names)) == len(names) and Bicubic().name == "bicubic"
    assert BlurDownsample(sigma=1.2).name != BlurDownsample(sigma=1.6).name
    assert BlurDownsample(kernel_size=9).name != BlurDownsample().name
