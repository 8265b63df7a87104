"""Blind degradations for training (`degradation=blind`): Real-ESRGAN's second-order model (Wang
et al. 2021): blur, resize, noise and JPEG, twice, then a final resize to HR/scale with an
optional sinc filter, each step's kind and strength drawn at random. Made from HR batches on the
training device (SRDataModule.on_after_batch_transfer); a test image's LR from the same pipeline
with a generator seeded by its name.

The pure steps live in srlab.ops (blur, noise, jpeg); this module draws their parameters.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from srlab.data.degradation import Degradation, bicubic_downscale
from srlab.ops import blur
from srlab.ops.jpeg import jpeg
from srlab.ops.noise import gaussian_noise, poisson_noise
from srlab.ops.pixels import hwc, planes

KERNEL_KINDS = (
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
)
RESIZE_MODES = ("area", "bilinear", "bicubic")


@dataclass
class BlindStage:
    """One pass of blur, resize, noise and JPEG; ranges are [low, high], drawn uniformly.

    Args:
        blur_prob: the chance the stage blurs at all.
        kernel_kinds / kernel_probs: which kernel (KERNEL_KINDS) and how often.
        sinc_prob: the chance of a sinc kernel instead.
        kernel_sizes: odd sizes to draw from.
        blur_sigma: the Gaussian's standard deviations, per axis.
        betag_range / betap_range: generalized Gaussian's and plateau's shape.
        resize_probs: the chances of up, down and keep (one draw per batch).
        resize_range: the factor's range (up: from 1 to high; down: from low to 1).
        gaussian_noise_prob: the chance of Gaussian noise (else Poisson).
        noise_range: Gaussian sigma in 8-bit levels.
        poisson_scale_range: the Poisson noise's scale.
        gray_noise_prob: the chance the noise is the same in every channel.
        jpeg_range: JPEG quality.
    """

    blur_prob: float = 1.0
    kernel_kinds: Sequence[str] = KERNEL_KINDS
    kernel_probs: Sequence[float] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    sinc_prob: float = 0.1
    kernel_sizes: Sequence[int] = (7, 9, 11, 13, 15, 17, 19, 21)
    blur_sigma: Sequence[float] = (0.2, 3.0)
    betag_range: Sequence[float] = (0.5, 4.0)
    betap_range: Sequence[float] = (1.0, 2.0)
    resize_probs: Sequence[float] = (0.2, 0.7, 0.1)
    resize_range: Sequence[float] = (0.15, 1.5)
    gaussian_noise_prob: float = 0.5
    noise_range: Sequence[float] = (1.0, 30.0)
    poisson_scale_range: Sequence[float] = (0.05, 3.0)
    gray_noise_prob: float = 0.4
    jpeg_range: Sequence[float] = (30.0, 95.0)


class Blind(Degradation):
    """Random blur, resize, noise and JPEG in two stages (Real-ESRGAN's published settings in
    conf/degradation/blind.yaml).

    Args:
        first, second: the two stages.
        final_sinc_prob: the chance of a sinc filter with the final resize.
        seed: the seed of every test image's LR (with the image's name).
    """

    is_random = True
    on_batches = True  # made from HR batches on the training device, not by the loader

    def __init__(
        self,
        first: BlindStage | None = None,
        second: BlindStage | None = None,
        final_sinc_prob: float = 0.8,
        seed: int = 0,
    ):
        self.first = first or BlindStage()
        self.second = second or BlindStage()
        self.final_sinc_prob = final_sinc_prob
        self.seed = seed
        self.name = "blind"

    @property
    def exact_name(self) -> str:
        return "bicubic"  # the loader's placeholder LR, replaced on the device

    def downscale(self, hr: np.ndarray, scale: int) -> np.ndarray:
        """A placeholder of the LR's size for the loader (the batch's LR is made on the device)."""
        return bicubic_downscale(hr, scale)

    def degrade(self, hr: np.ndarray, scale: int, image_name: str) -> np.ndarray:
        generator = self.image_generator(image_name)
        lr = self.degrade_batch(planes(hr).float()[None].div_(255), scale, generator)
        return hwc(lr[0].mul(255).round().to(torch.uint8))

    def degrade_batch(
        self, hr: Tensor, scale: int, generator: torch.Generator | None = None
    ) -> Tensor:
        """float (B, C, H, W) HR on [0, 1], H and W multiples of `scale` -> float (B, C, H/s,
        W/s) LR on [0, 1], quantized to 8-bit levels, on the HR's device."""
        rng = np.random.default_rng(int(torch.randint(2**62, (), generator=generator)))
        batch, _, height, width = hr.shape
        size = (height // scale, width // scale)
        out = self.stage(hr, self.first, (height, width), rng, generator, with_jpeg=True)
        # the second stage resizes around the LR's size; its JPEG comes with the final resize
        out = self.stage(out, self.second, size, rng, generator, with_jpeg=False)
        kernels = [self.final_kernel(rng) for _ in range(batch)]
        qualities = self.qualities(self.second, batch, rng)
        if rng.random() < 0.5:  # resize and sinc, then JPEG; or the other way round
            out = jpeg(blur.filter_each(resize(out, size, rng), kernels), qualities)
        else:
            out = blur.filter_each(resize(jpeg(out, qualities), size, rng), kernels)
        return out.clamp(0, 1).mul(255).round().div(255)

    def stage(
        self,
        images: Tensor,
        stage: BlindStage,
        reference: tuple[int, int],
        rng: np.random.Generator,
        generator: torch.Generator | None,
        with_jpeg: bool,
    ) -> Tensor:
        """Blur, resize to the `reference` size times a random factor, noise, and JPEG."""
        batch = images.shape[0]
        if rng.random() < stage.blur_prob:
            kernels = [self.kernel(stage, rng) for _ in range(batch)]
            images = blur.filter_each(images, kernels)
        factor = resize_factor(stage, rng)
        images = resize(images, tuple(max(1, int(side * factor)) for side in reference), rng)
        images = self.noise(images, stage, rng, generator)
        if with_jpeg:
            images = jpeg(images, self.qualities(stage, batch, rng))
        return images

    def kernel(self, stage: BlindStage, rng: np.random.Generator) -> Tensor:
        size = int(rng.choice(stage.kernel_sizes))
        if rng.random() < stage.sinc_prob:
            low = math.pi / 3 if size < 13 else math.pi / 5
            return blur.sinc(size, rng.uniform(low, math.pi))
        kind = str(rng.choice(stage.kernel_kinds, p=normalized(stage.kernel_probs)))
        sigma_x = rng.uniform(*stage.blur_sigma)
        isotropic = kind.endswith("iso") and not kind.endswith("aniso")
        sigma_y = sigma_x if isotropic else rng.uniform(*stage.blur_sigma)
        theta = 0.0 if isotropic else rng.uniform(-math.pi, math.pi)
        if kind.startswith("generalized"):
            beta = shape_beta(stage.betag_range, rng)
            return blur.generalized_gaussian(size, sigma_x, sigma_y, theta, beta)
        if kind.startswith("plateau"):
            return blur.plateau(size, sigma_x, sigma_y, theta, shape_beta(stage.betap_range, rng))
        return blur.anisotropic_gaussian(size, sigma_x, sigma_y, theta)

    def final_kernel(self, rng: np.random.Generator) -> Tensor:
        """A sinc (with `final_sinc_prob`) or the identity (1 x 1)."""
        if rng.random() < self.final_sinc_prob:
            size = int(rng.choice(self.second.kernel_sizes))
            return blur.sinc(size, rng.uniform(math.pi / 3, math.pi))
        return torch.ones(1, 1, dtype=torch.float64)

    def noise(
        self,
        images: Tensor,
        stage: BlindStage,
        rng: np.random.Generator,
        generator: torch.Generator | None,
    ) -> Tensor:
        batch = images.shape[0]
        gray = torch.from_numpy(rng.random(batch) < stage.gray_noise_prob)
        if rng.random() < stage.gaussian_noise_prob:
            sigmas = torch.from_numpy(rng.uniform(*stage.noise_range, batch) / 255)
            return gaussian_noise(images, sigmas, gray, generator)
        scales = torch.from_numpy(rng.uniform(*stage.poisson_scale_range, batch))
        return poisson_noise(images, scales, gray, generator)

    @staticmethod
    def qualities(stage: BlindStage, batch: int, rng: np.random.Generator) -> list[int]:
        return [int(q) for q in rng.uniform(*stage.jpeg_range, batch).round()]


def resize(images: Tensor, size: tuple[int, int], rng: np.random.Generator) -> Tensor:
    """To `size` by area, bilinear or bicubic interpolation, drawn once for the batch."""
    mode = str(rng.choice(RESIZE_MODES))
    if tuple(images.shape[-2:]) == tuple(size):
        return images
    if mode == "area":
        return F.interpolate(images, size=size, mode="area")
    return F.interpolate(images, size=size, mode=mode, align_corners=False)


def resize_factor(stage: BlindStage, rng: np.random.Generator) -> float:
    direction = rng.choice(("up", "down", "keep"), p=normalized(stage.resize_probs))
    if direction == "up":
        return rng.uniform(1, stage.resize_range[1])
    if direction == "down":
        return rng.uniform(stage.resize_range[0], 1)
    return 1.0


def shape_beta(beta_range: Sequence[float], rng: np.random.Generator) -> float:
    """Below 1 or above 1 with even odds, as Real-ESRGAN draws the shape."""
    if rng.random() < 0.5:
        return rng.uniform(beta_range[0], 1)
    return rng.uniform(1, beta_range[1])


def normalized(probs: Sequence[float]) -> np.ndarray:
    values = np.asarray(list(probs), dtype=np.float64)
    return values / values.sum()
