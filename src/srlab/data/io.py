"""Reading and writing images: uint8 HWC arrays, errors that name the file, atomic writes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from srlab.utils.errors import SRLabError
from srlab.utils.files import write_atomic

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def list_images(folder: str | Path, what: str = "images") -> list[Path]:
    """Image files of a folder, sorted by name; an error naming the folder if there are none."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SRLabError(f"{what}: folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SRLabError(
            f"{what}: no images ({', '.join(IMAGE_SUFFIXES)}) in {folder}; put HR images there "
            "or point the config at another folder"
        )
    return files


def to_rgb_or_gray(image: Image.Image, path: Path) -> np.ndarray:
    """8-bit (H, W, C) array with C = 3, or C = 1 for grayscale; 16-bit is scaled, alpha dropped."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        levels = np.asarray(image, dtype=np.float64)
        scale = 255.0 / 65535.0 if levels.max() > 255 or image.mode.startswith("I;16") else 1.0
        return np.clip(np.round(levels * scale), 0, 255).astype(np.uint8)[..., None]
    if image.mode in ("L", "1"):
        return np.asarray(image.convert("L"))[..., None]
    if image.mode in ("RGB", "RGBA", "P", "PA", "LA", "CMYK", "YCbCr"):
        if image.mode in ("LA",):
            return np.asarray(image.convert("L"))[..., None]
        return np.asarray(image.convert("RGB"))
    raise SRLabError(f"{path}: unsupported image mode {image.mode!r}; convert it to 8-bit RGB PNG")


def read_image(path: str | Path) -> np.ndarray:
    """Decode an image into a uint8 (H, W, C) array; a corrupt file raises an error naming it."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            return to_rgb_or_gray(image, path)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise SRLabError(
            f"{path}: cannot read this image ({error}); replace or delete the file"
            " (or set data.skip_bad_images=true to skip it)"
        ) from error


def write_image(path: str | Path, image: np.ndarray) -> None:
    """Write a uint8 (H, W, C) array as PNG atomically: a crash never leaves a half file."""
    array = image[..., 0] if image.ndim == 3 and image.shape[2] == 1 else image
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    write_atomic(path, buffer.getvalue())


def mod_crop(image: np.ndarray, scale: int) -> np.ndarray:
    """Drop the last rows/columns so height and width are multiples of the scale."""
    height, width = image.shape[0] - image.shape[0] % scale, image.shape[1] - image.shape[1] % scale
    return image[:height, :width]
