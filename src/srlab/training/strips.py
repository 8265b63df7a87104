"""Comparison strips, `images/<set>_<image>.png` in a run directory: LR (nearest-upscaled) |
bicubic | SR | HR, centre crops of the same validation image side by side, each under a white
band that names it. One definition for the callback that writes them after each validation and
for the report that cuts its crops from them. No Lightning here: the reports import it.

The band's numbers are of the whole image (Y-channel PSNR with the scale's border shaved, as the
validation measures it), and say so; the band itself is no part of a panel's pixels
(`strip_panels` cuts it off), so a crop's PSNR is that of its pixels alone.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw, ImageFont

from srlab.ops.pixels import to_uint8
from srlab.ops.quality import psnr

LABEL_BAND = 30  # pixels above each panel: two lines of 12-pixel text
PANELS = ("LR", "bicubic", "SR", "HR")


def centre_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """(1, C, H, W) -> (C, h, w): the centre `size` x `size` pixels (or less, if smaller)."""
    height, width = image.shape[-2:]
    size_h, size_w = min(size, height), min(size, width)
    top, left = (height - size_h) // 2, (width - size_w) // 2
    return image[0, :, top : top + size_h, left : left + size_w]


def labelled(panel: np.ndarray, lines: tuple[str, ...]) -> np.ndarray:
    """A uint8 HWC panel under a white band of LABEL_BAND pixels with `lines` written in it."""
    rgb = np.repeat(panel, 3, axis=2) if panel.shape[2] == 1 else panel
    canvas = Image.new("RGB", (rgb.shape[1], rgb.shape[0] + LABEL_BAND), "white")
    canvas.paste(Image.fromarray(rgb), (0, LABEL_BAND))
    font = ImageFont.load_default(size=12)
    draw = ImageDraw.Draw(canvas)
    for index, line in enumerate(lines):
        draw.text((3, 1 + 14 * index), line, fill="black", font=font)
    return np.asarray(canvas)


def comparison_strip(
    batch: dict[str, torch.Tensor], sr: torch.Tensor, crop: int, scale: int, step: int
) -> np.ndarray:
    """The strip of one validation image, uint8 HWC: bicubic and SR labelled with their PSNR on
    the whole image, SR with the step."""
    lr_up = F.interpolate(batch["lr"], scale_factor=scale, mode="nearest")
    hr = batch["hr"]
    bicubic_db = psnr(batch["bicubic"], hr, border=scale).item()
    sr_db = psnr(sr, hr, border=scale).item()
    panels = {
        ("LR", "nearest"): lr_up,
        ("bicubic", f"{bicubic_db:.2f} dB whole image"): batch["bicubic"],
        (f"SR, step {step}", f"{sr_db:.2f} dB whole image"): sr,
        ("HR",): hr,
    }
    strips = [labelled(to_uint8(centre_crop(p, crop)), lines) for lines, p in panels.items()]
    return np.concatenate(strips, axis=1)


def strip_panels(strip: np.ndarray) -> dict[str, np.ndarray] | None:
    """A strip's four panels by name (PANELS), without their label bands; None when it is not a
    strip (not four equal panels under a band)."""
    if strip.shape[1] % len(PANELS) or strip.shape[0] <= LABEL_BAND:
        return None
    panels = np.split(strip[LABEL_BAND:], len(PANELS), axis=1)
    return dict(zip(PANELS, panels, strict=True))
