"""Training patches (random aligned HR/LR crops, D4 augmentation) and whole validation images."""

from __future__ import annotations

import functools
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import albumentations as A
import numpy as np
import torch
from rich.progress import Progress
from torch.utils.data import Dataset

from srlab.data.cache import cached_array
from srlab.data.degradation import Bicubic, Degradation, bicubic_upscale
from srlab.data.io import mod_crop
from srlab.ops.pixels import to_float


def d4_augmentation() -> A.Compose:
    """Flips and 90-degree rotations, applied with the same draw to HR and its LR."""
    return A.Compose(
        [A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5), A.RandomRotate90(p=1.0)],
        additional_targets={"lr": "image"},
        is_check_shapes=False,  # HR and LR differ in size by the scale; D4 ops don't care
    )


def degrade_images(
    hr_images: list[np.ndarray],
    scale: int,
    cache_dir: Path | None = None,
    degradation: Degradation | None = None,
) -> list[np.ndarray]:
    """The exact LR (`degradation.downscale`, bicubic by default) of each whole (mod-cropped) HR
    image, made once; with `cache_dir`, kept as .npy files named by the degradation's exact part,
    that later runs and every worker memory-map."""
    degradation = degradation or Bicubic()
    lr_images = []
    with Progress(transient=True) as progress:
        for hr in progress.track(hr_images, description=f"degrading x{scale}"):
            make = functools.partial(degradation.downscale, mod_crop(hr, scale), scale)
            crc = zlib.crc32(np.ascontiguousarray(hr))
            key = f"{degradation.exact_name}.{hr.shape[0]}x{hr.shape[1]}.{crc}"
            lr_images.append(cached_array(cache_dir / f"{key}.npy", make) if cache_dir else make())
    return lr_images


class TrainPatches(Dataset):
    """Random HR crops of `patch_size` with the aligned crops of their LR.

    The LR is the whole image's (`lr_images`: an LR folder, or the exact degradation of each
    whole image, made once): a patch's LR is then exactly the crop of the LR that validation,
    eval and the papers' LR folders use, border pixels included (degrading each HR crop would
    compute its border ring from edge-replicated pixels instead of the image's neighbours).
    A random degradation's noise (`perturb`) is then drawn for each patch from torch's RNG,
    seeded by the run's seed and the DataLoader worker.

    Each image is visited `repeat` times per epoch so that epochs have a useful length.
    """

    def __init__(
        self,
        hr_images: list[np.ndarray],
        scale: int,
        patch_size: int,
        repeat: int = 1,
        augment: bool = True,
        lr_images: list[np.ndarray] | None = None,
        degradation: Degradation | None = None,
    ):
        if patch_size % scale:
            raise ValueError(f"data.patch_size={patch_size} must be a multiple of scale={scale}")
        self.hr_images = hr_images
        self.degradation = degradation or Bicubic()
        if lr_images is None:
            lr_images = degrade_images(hr_images, scale, degradation=self.degradation)
        self.lr_images = lr_images
        self.scale = scale
        self.patch_size = patch_size
        self.repeat = repeat
        self.augmentation = d4_augmentation() if augment else None
        self.seeded_pid: int | None = None

    def __len__(self) -> int:
        return len(self.hr_images) * self.repeat

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        hr, lr = self.crop(index % len(self.hr_images))
        if self.degradation.is_random:
            lr = self.degradation.perturb(lr)
        if self.augmentation is not None:
            self.seed_augmentation_once_per_process()
            out = self.augmentation(image=hr, lr=lr)
            hr, lr = out["image"], out["lr"]
        return {"lr": to_float(lr), "hr": to_float(hr)}

    def seed_augmentation_once_per_process(self) -> None:
        """torch's RNG is seeded per DataLoader worker (and by seed_everything); albumentations'
        own is not, so forked workers would draw the same flips. Seeding per sample cost 16%."""
        if self.seeded_pid != os.getpid():
            self.augmentation.set_random_seed(int(torch.randint(2**31 - 1, ())))
            self.seeded_pid = os.getpid()

    def crop(self, image_index: int) -> tuple[np.ndarray, np.ndarray]:
        """An aligned (HR patch, LR patch) pair at a random LR-grid position."""
        hr = self.hr_images[image_index]
        lr_patch = self.patch_size // self.scale
        lr_height, lr_width = hr.shape[0] // self.scale, hr.shape[1] // self.scale
        top = int(torch.randint(lr_height - lr_patch + 1, ()))
        left = int(torch.randint(lr_width - lr_patch + 1, ()))
        s = self.scale
        hr_crop = np.ascontiguousarray(
            hr[top * s : (top + lr_patch) * s, left * s : (left + lr_patch) * s]
        )
        lr = self.lr_images[image_index]
        return hr_crop, np.ascontiguousarray(lr[top : top + lr_patch, left : left + lr_patch])


@dataclass
class ValImage:
    name: str
    lr: np.ndarray
    bicubic: np.ndarray
    hr: np.ndarray


class ValImages(Dataset):
    """Whole images, HR mod-cropped to the scale, LR by the degradation (never crops; a random
    one's noise fixed per image), and the bicubic upscaling of that LR (the papers' baseline)."""

    def __init__(
        self, hr_images: dict[str, np.ndarray], scale: int, degradation: Degradation | None = None
    ):
        degradation = degradation or Bicubic()
        self.items = []
        for name, image in hr_images.items():
            hr = mod_crop(image, scale)
            lr = degradation.degrade(hr, scale, name)
            self.items.append(ValImage(name, lr, bicubic_upscale(lr, scale), hr))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        item = self.items[index]
        return {
            "name": item.name,
            "lr": to_float(item.lr),
            "bicubic": to_float(item.bicubic),
            "hr": to_float(item.hr),
        }
