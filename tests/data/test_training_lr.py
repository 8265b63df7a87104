"""A training patch's LR is exactly the crop of the whole image's LR (the protocol's LR)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from srlab.data.datasets import TrainPatches, degrade_images
from srlab.data.degradation import bicubic_downscale
from srlab.data.io import mod_crop, read_image
from srlab.utils.hydra import asset_dir


def hr_position(hr: np.ndarray, patch: np.ndarray, scale: int) -> tuple[int, int]:
    """Where on the LR grid an HR patch was cut (the unique match in a real photo)."""
    size = patch.shape[0]
    for top in range(0, hr.shape[0] - size + 1, scale):
        for left in range(0, hr.shape[1] - size + 1, scale):
            if np.array_equal(hr[top : top + size, left : left + size], patch):
                return top // scale, left // scale
    raise AssertionError("patch not found in its image")


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_patch_lr_is_the_crop_of_the_whole_image_lr(scale: int) -> None:
    hr = read_image(Path(asset_dir("Set5")) / "bird.png")
    whole_lr = bicubic_downscale(mod_crop(hr, scale), scale)
    patches = TrainPatches([hr], scale, patch_size=12 * scale, augment=False)
    torch.manual_seed(0)
    for _ in range(6):
        sample = patches[0]
        hr_patch = sample["hr"].mul(255).round().byte().permute(1, 2, 0).numpy()
        lr_patch = sample["lr"].mul(255).round().byte().permute(1, 2, 0).numpy()
        top, left = hr_position(hr, hr_patch, scale)
        expected = whole_lr[top : top + 12, left : left + 12]
        assert np.array_equal(lr_patch, expected)  # 100% of pixels, border ring included


def test_degraded_images_are_cached_on_disk_and_reused(tmp_path: Path) -> None:
    hr = read_image(Path(asset_dir("Set5")) / "baby.png")[:100, :90]
    first = degrade_images([hr], 2, tmp_path)
    files = list(tmp_path.glob("*.npy"))
    assert len(files) == 1 and isinstance(first[0], np.memmap)
    mtime = files[0].stat().st_mtime_ns
    again = degrade_images([hr], 2, tmp_path)
    assert files[0].stat().st_mtime_ns == mtime  # read back, not recomputed
    assert np.array_equal(again[0], bicubic_downscale(hr, 2))
