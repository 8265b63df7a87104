"""The crop strip of report.html: HR, bicubic and each run's SR of one validation image, cut at
the same place from the comparison strips the runs saved (training/strips.py; their label bands
left out), each captioned with its PSNR on the set (the mean) and on the crop's own pixels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import OmegaConf

from srlab.data.io import read_image
from srlab.ops.pixels import as_batch
from srlab.ops.quality import psnr
from srlab.reporting.runs import Run, bicubic_psnr
from srlab.reporting.table import Comparison
from srlab.training.strips import strip_panels
from srlab.utils.errors import SRLabError


@dataclass
class Crop:
    """One image of the side-by-side strip: a label (HR, bicubic, a run), a caption, the pixels."""

    label: str
    caption: str
    image: np.ndarray  # uint8 (H, W, C)


def image_names(run: Run) -> list[str]:
    folder = run.path / "images"
    return sorted(path.stem for path in folder.glob("*.png")) if folder.is_dir() else []


def shared_image(runs: list[Run], image: str | None) -> str | None:
    """`image` if every run saved it, else an error naming the ones they share; None: the first
    one they share (None when they share none)."""
    shared = sorted(set.intersection(*(set(image_names(run)) for run in runs)))
    if image is None:
        return shared[0] if shared else None
    if image not in shared:
        available = ", ".join(shared) or "none shared by every run"
        raise SRLabError(
            f"image={image}: not in every run's images/ folder; choose one of: {available}"
        )
    return image


def comparison_crops(comparison: Comparison, image: str | None) -> tuple[str, list[Crop]]:
    """HR, bicubic and each run's SR of one validation image, at the same place.

    The runs' images/<set>_<image>.png are strips of 4 equal panels LR | bicubic | SR | HR, centre
    crops of the same size from the same validation image, so panel k of every run shows the
    same pixels. Each SR crop is labelled with its run's mean PSNR on the set and its PSNR on
    this crop, computed from the crop's pixels as shown.
    """
    runs = [run for run in comparison.runs if image_names(run)]
    image = shared_image(runs, image) if runs else None
    if image is None:
        return "", []
    # images/<set>_<image>.png; a set's name may hold "_" too
    named = [name for name in comparison.val_sets if image.startswith(f"{name}_")]
    val_set = max(named, key=len) if named else image.split("_", 1)[0]
    strips = [(run, read_strip(run.path / "images" / f"{image}.png")) for run in runs]
    strips = [(run, strip) for run, strip in strips if strip is not None]
    if not strips:
        return image, []
    bicubic, hr = strips[0][1]["bicubic"], strips[0][1]["HR"]
    border = int(OmegaConf.select(strips[0][0].config, "scale", default=0) or 0)
    set_psnr = bicubic_psnr(runs, val_set)
    crops = [
        Crop("HR", "ground truth", hr),
        Crop("bicubic", caption(bicubic, hr, border, set_psnr, val_set), bicubic),
    ]
    for run, strip in strips:
        sr = strip["SR"]
        if sr.shape != hr.shape:
            continue  # saved with another crop size: not the same place
        set_psnr = run.metrics.get(f"val/{val_set}/psnr")
        label = comparison.labels[comparison.runs.index(run)]
        crops.append(Crop(label, caption(sr, hr, border, set_psnr, val_set), sr))
    return image, crops


def read_strip(path: Path) -> dict[str, np.ndarray] | None:
    """A comparison strip's panels, or None when it is unreadable or no strip: one run's broken
    image leaves it out of the crops, not the report."""
    try:
        strip = read_image(path)
    except SRLabError:
        return None
    return strip_panels(strip)


def caption(
    crop: np.ndarray, hr: np.ndarray, border: int, set_psnr: float | None, val_set: str
) -> str:
    """`29.47 dB mean on Set5 · 27.31 dB on this crop` (Y-channel PSNR, the protocol's border)."""
    border = min(border, (min(hr.shape[:2]) - 1) // 2)
    on_crop = float(
        psnr(as_batch(crop), as_batch(hr), border=border, y_channel=hr.shape[2] == 3)[0]
    )
    parts = [f"{set_psnr:.2f} dB mean on {val_set}"] if set_psnr is not None else []
    return " · ".join([*parts, f"{on_crop:.2f} dB on this crop"])
