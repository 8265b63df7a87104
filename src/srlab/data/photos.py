"""Reading and writing the images people have: alpha, 16 bits, gray, EXIF orientation, ICC.

`data/io.py` reads training and benchmark images as 8-bit RGB or gray; this module keeps what a
photo carries so that `srlab.upscale` can give it back: a `Photo` holds its color samples upright
(EXIF orientation applied) at the file's depth (uint8 or uint16), its alpha plane apart (the net
sees only color) and its ICC profile.

Pillow decodes 16-bit gray but reads 16-bit RGB(A) PNG and TIFF as 8 bits, so files deeper than 8
bits are decoded by OpenCV (PNG) or tifffile (TIFF), and 16-bit PNGs are written here (Pillow has
no 16-bit color mode). Neither decoder applies the EXIF orientation as read (OpenCV's
IMREAD_UNCHANGED ignores it), so it is applied once, here, for every depth.
"""

from __future__ import annotations

import glob
import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, UnidentifiedImageError

from srlab.data.io import IMAGE_SUFFIXES, list_images
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_atomic

ORIENTATION_TAG = 0x0112
BITS_PER_SAMPLE_TAG = 258
# EXIF orientation -> how to make the (H, W, C) samples upright, as PIL.ImageOps.exif_transpose.
UPRIGHT = {
    2: lambda a: a[:, ::-1],  # mirrored left-right
    3: lambda a: a[::-1, ::-1],  # rotated 180
    4: lambda a: a[::-1],  # mirrored top-bottom
    5: lambda a: a.swapaxes(0, 1),  # transposed
    6: lambda a: np.rot90(a, -1),  # the camera held rotated: turn 90 degrees clockwise
    7: lambda a: a.swapaxes(0, 1)[::-1, ::-1],  # transversed
    8: lambda a: np.rot90(a, 1),  # turn 90 degrees counter-clockwise
}


@dataclass
class Photo:
    """An image as its file holds it, upright: samples uint8 or uint16."""

    color: np.ndarray  # (H, W, C), C = 3 (RGB) or 1 (gray)
    alpha: np.ndarray | None  # (H, W), the color's dtype; None when the file has no alpha
    icc_profile: bytes | None  # the color space the samples are in, carried to the output

    @property
    def bits(self) -> int:
        return self.color.dtype.itemsize * 8


class Format(NamedTuple):
    pil_name: str
    suffix: str
    max_bits: int  # a deeper photo is written at this depth
    alpha: bool
    lossy: bool  # takes quality=


FORMATS = {
    "png": Format("PNG", ".png", 16, alpha=True, lossy=False),
    "jpg": Format("JPEG", ".jpg", 8, alpha=False, lossy=True),
    "webp": Format("WEBP", ".webp", 8, alpha=True, lossy=True),  # gray comes back RGB
}


def find_photos(spec: str | Path) -> list[Path]:
    """The images `input=` names: one file, the images of a folder, or those a glob matches."""
    path = Path(spec)
    if path.is_dir():
        return list_images(path, "input")
    if path.is_file():
        return [path]
    if not glob.has_magic(str(spec)):
        raise SRLabError(
            f"input: {spec} does not exist; pass an image, a folder of images or a quoted glob "
            "(input='photos/*.jpg')"
        )
    matches = sorted(Path(p) for p in glob.glob(str(spec), recursive=True))
    files = [p for p in matches if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise SRLabError(
            f"input: no images ({', '.join(IMAGE_SUFFIXES)}) match {spec}; check the pattern"
        )
    return files


def read_photo(path: str | Path) -> Photo:
    """Decode `path` upright at its depth; a corrupt or unsupported file is an error naming it."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            orientation = image.getexif().get(ORIENTATION_TAG, 1)
            # A CMYK file's profile describes inks, not the RGB samples it is converted to.
            icc_profile = None if image.mode == "CMYK" else image.info.get("icc_profile") or None
            deep = bit_depth(image, path) > 8
            samples = read_deep(path, image.format) if deep else read_8bit(image)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise SRLabError(
            f"{path}: cannot read this image ({error}); replace or delete the file"
        ) from error
    if samples.dtype.kind != "u" or samples.dtype.itemsize > 2:
        raise SRLabError(f"{path}: {samples.dtype} samples; convert it to 8- or 16-bit")
    samples = UPRIGHT.get(orientation, np.asarray)(samples.astype(f"u{samples.dtype.itemsize}"))
    has_alpha = samples.shape[2] in (2, 4)  # gray + alpha, RGBA
    color = samples[..., :-1] if has_alpha else samples
    alpha = np.ascontiguousarray(samples[..., -1]) if has_alpha else None
    return Photo(np.ascontiguousarray(color), alpha, icc_profile)


def bit_depth(image: Image.Image, path: Path) -> int:
    """Bits per sample as the file says (PNG's IHDR, TIFF's BitsPerSample); 8 for the rest."""
    if image.format == "PNG":
        return png_header(path)[0]
    if image.format == "TIFF":
        bits = image.tag_v2.get(BITS_PER_SAMPLE_TAG, 8)
        return max(bits) if isinstance(bits, tuple) else bits
    return 8


def png_header(path: Path) -> tuple[int, int]:
    """(bit depth, color type) from the IHDR chunk, which the PNG specification puts first."""
    with open(path, "rb") as handle:
        header = handle.read(26)  # 8-byte signature, IHDR length, type, width, height
    return header[24], header[25]


def read_8bit(image: Image.Image) -> np.ndarray:
    """(H, W, C) uint8: gray (+ alpha) stays gray, the rest becomes RGB (+ alpha)."""
    if image.mode.startswith(("I", "F")):  # 32-bit integer or float samples
        raise ValueError(f"{image.mode} samples are not supported; convert it to 8- or 16-bit")
    has_alpha = "A" in image.mode or "transparency" in image.info
    gray = image.mode in ("1", "L", "LA", "La")
    target = ("LA" if has_alpha else "L") if gray else ("RGBA" if has_alpha else "RGB")
    samples = np.asarray(image.convert(target))
    return samples[..., None] if samples.ndim == 2 else samples


def read_deep(path: Path, format_name: str | None) -> np.ndarray:
    """(H, W, C) samples of a PNG or TIFF deeper than 8 bits, C in gray, gray + alpha, RGB, RGBA."""
    if format_name == "TIFF":
        import tifffile

        with tifffile.TiffFile(path) as tiff:
            page = tiff.pages[0]
            samples = page.asarray()
            if page.axes.startswith("S"):  # planar: one plane per sample
                samples = np.moveaxis(samples, 0, -1)
    else:
        import cv2

        samples = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
        if samples is None:
            raise ValueError("OpenCV cannot decode it")
        if samples.ndim == 3:  # OpenCV orders color BGR(A)
            samples = samples[..., [2, 1, 0, 3][: samples.shape[2]]]
        if png_header(path)[1] == 4 and samples.shape[2] == 4:  # it expands gray + alpha to RGBA
            samples = samples[..., [0, 3]]
    return samples[..., None] if samples.ndim == 2 else samples


def write_photo(path: str | Path, photo: Photo, output_format: Format, quality: int) -> None:
    """Write `photo` atomically in `output_format`, 16-bit samples as a 16-bit PNG; `quality`
    applies to the lossy formats."""
    samples = photo.color
    if photo.alpha is not None:
        samples = np.concatenate([samples, photo.alpha[..., None]], axis=2)
    if samples.dtype == np.uint16:
        write_atomic(path, encode_png16(samples, photo.icc_profile))
        return
    options = {"icc_profile": photo.icc_profile} if photo.icc_profile else {}
    if output_format.lossy:
        options["quality"] = quality
    buffer = io.BytesIO()
    image = Image.fromarray(samples[..., 0] if samples.shape[2] == 1 else samples)
    image.save(buffer, format=output_format.pil_name, **options)
    write_atomic(path, buffer.getvalue())


def encode_png16(samples: np.ndarray, icc_profile: bytes | None) -> bytes:
    """A 16-bit PNG of (H, W, C) uint16 samples, C = 1 (gray), 2 (gray + alpha), 3 or 4 (RGBA).

    Every row uses the Up filter (one vectorised subtraction), which suits photos."""
    height, width, channels = samples.shape
    color_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    big_endian = np.ascontiguousarray(samples, ">u2")  # PNG's byte order
    rows = big_endian.view(np.uint8).reshape(height, width * channels * 2)
    up = np.diff(rows, axis=0, prepend=np.zeros((1, rows.shape[1]), np.uint8))  # mod 256
    filtered = np.concatenate([np.full((height, 1), 2, np.uint8), up], axis=1)
    chunks = [(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, color_type, 0, 0, 0))]
    if icc_profile:
        chunks.append((b"iCCP", b"ICC profile\0\0" + zlib.compress(icc_profile)))
    chunks += [(b"IDAT", zlib.compress(filtered.tobytes(), 6)), (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in chunks
    )
