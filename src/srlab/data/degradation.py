"""How LR is made from HR: one object per degradation, taken by everything that makes LR (the
training data, validation, srlab.eval, srlab.prepare, the bench), chosen by `degradation=`.

A degradation has an exact part (`downscale`: the same bits in every run, cached under its
`exact_name`) and, when random, noise drawn per use (`perturb`). In training the noise is drawn
per sample from torch's RNG, which Lightning seeds from the run's seed and each DataLoader
worker; a test image's noise (`degrade`) comes from `seed` and the image's name, so a set's LR
is the same in every run and on every rank. A degradation made on batches (`on_batches`:
srlab.data.blind) makes training LR from each HR batch on the training device instead.
"""

from __future__ import annotations

import math
import zlib

import numpy as np
import torch

from srlab.ops.blur import blur_downsample, gaussian_kernel
from srlab.ops.imresize import imresize
from srlab.ops.pixels import hwc, matlab_uint8, planes


def bicubic_downscale(hr: np.ndarray, scale: int) -> np.ndarray:
    """uint8 (H, W, C) -> uint8 (H/s, W/s, C), as MATLAB's imresize(hr, 1/s, 'bicubic')."""
    return hwc(imresize(planes(hr), scale=1.0 / scale))


def bicubic_upscale(lr: np.ndarray, scale: int) -> np.ndarray:
    """uint8 (h, w, C) -> uint8 (sh, sw, C): the bicubic baseline the papers report."""
    return hwc(imresize(planes(lr), scale=float(scale)))


class Degradation:
    """The base: `name` is what every LR cache key, LR folder check and run summary carries."""

    name = ""
    is_random = False  # True: `perturb` draws noise
    on_batches = False  # True: training LR is made from HR batches on the device (degrade_batch)
    seed = 0  # a random one's: with a test image's name, the seed of that image's LR

    @property
    def exact_name(self) -> str:
        """The name of what `downscale` makes: what a cached or ready-made LR holds."""
        return self.name

    def downscale(self, hr: np.ndarray, scale: int) -> np.ndarray:
        """uint8 (H, W, C), H and W multiples of `scale` -> uint8 (H/s, W/s, C): the exact part."""
        raise NotImplementedError

    def perturb(self, lr: np.ndarray, generator: torch.Generator | None = None) -> np.ndarray:
        """The random part, on the LR (a whole image or a patch); none by default."""
        return lr

    def degrade(self, hr: np.ndarray, scale: int, image_name: str) -> np.ndarray:
        """A test image's LR: the same in every run (random parts seeded by the image's name)."""
        return self.perturb(self.downscale(hr, scale), self.image_generator(image_name))

    def image_generator(self, image_name: str) -> torch.Generator | None:
        """A random degradation's generator for one test image: from `seed` and its name."""
        if not self.is_random:
            return None
        return torch.Generator().manual_seed(zlib.crc32(f"{self.seed}/{image_name}".encode()))

    def __repr__(self) -> str:
        return self.name


class Bicubic(Degradation):
    """BI, the default: MATLAB's imresize(hr, 1/s, 'bicubic'), bit-exact."""

    name = "bicubic"

    def downscale(self, hr: np.ndarray, scale: int) -> np.ndarray:
        return bicubic_downscale(hr, scale)


class BlurDownsample(Degradation):
    """BD (RDN, RCAN, SRMD): Gaussian blur `sigma`, then every `scale`-th pixel, as the authors'
    MATLAB makes it (srlab.ops.blur); identical to their Set5 x3 LR on every pixel.

    Args:
        sigma: the Gaussian's standard deviation in HR pixels (the papers': 1.6).
        kernel_size: taps per side; None: the authors' choice, 7 at odd scales (their x3) and
            ceil(3 sigma) * 2 + 2 at even ones (their x2 and x4 code).
    """

    def __init__(self, sigma: float = 1.6, kernel_size: int | None = None):
        self.sigma = float(sigma)
        self.kernel_size = kernel_size
        size = f"k{kernel_size}_" if kernel_size else ""
        self.name = f"bd_{size}sigma{self.sigma:g}"

    def size_at(self, scale: int) -> int:
        if self.kernel_size:
            return self.kernel_size
        return 7 if scale % 2 else math.ceil(3 * self.sigma) * 2 + 2

    def downscale(self, hr: np.ndarray, scale: int) -> np.ndarray:
        kernel = gaussian_kernel(self.size_at(scale), self.sigma)
        return hwc(blur_downsample(planes(hr), kernel, scale))


class BicubicNoise(Bicubic):
    """DN (RDN, RCAN): MATLAB bicubic, then Gaussian noise `sigma` on the 0-255 scale, rounded
    and saturated to uint8 (`uint8(single(lr) + single(sigma * randn(size)))`).

    MATLAB's randn cannot be reproduced here: the papers' exact test sets are their LR files
    (eval's `data.sets=[{hr: ..., lr: ...}]`); `seed` fixes srlab's own test noise.

    Args:
        sigma: the noise's standard deviation in levels (the papers': 30).
        seed: the seed of every test image's noise (with the image's name).
    """

    is_random = True

    def __init__(self, sigma: float = 30.0, seed: int = 0):
        self.sigma = float(sigma)
        self.seed = seed
        self.name = f"dn_sigma{self.sigma:g}"

    @property
    def exact_name(self) -> str:
        return Bicubic.name  # its downscale is bicubic's

    def perturb(self, lr: np.ndarray, generator: torch.Generator | None = None) -> np.ndarray:
        levels = planes(lr).float()  # MATLAB's single
        noise = torch.randn(levels.shape, generator=generator).mul_(self.sigma)
        return hwc(matlab_uint8(levels.add_(noise)))
