"""Real photos that every checkout has: the Set5 bundled in the package (srlab/assets/Set5), as
uint8 (H, W, C) arrays, and a real grayscale photo made from one of them. Tests of maths and
behaviour read these; only tests whose point is a reference file read ../shared/data."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from srlab.data.io import read_image
from srlab.utils.hydra import asset_dir

SET5 = Path(asset_dir("Set5"))
# (height, width): baby 512x512, bird 288x288, butterfly 256x256, head 280x280, woman 344x228
SET5_NAMES = ("baby", "bird", "butterfly", "head", "woman")


@cache
def set5(name: str) -> np.ndarray:
    """Set5's `name` (e.g. "baby") as a read-only uint8 (H, W, 3) array."""
    image = read_image(SET5 / f"{name}.png")
    image.flags.writeable = False
    return image


@cache
def gray_set5(name: str) -> np.ndarray:
    """Set5's `name` as a grayscale photo: PIL's luma, a read-only uint8 (H, W, 1) array."""
    with Image.open(SET5 / f"{name}.png") as image:
        gray = np.asarray(image.convert("L"))[..., None].copy()
    gray.flags.writeable = False
    return gray
