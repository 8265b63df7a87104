"""Pairing an HR image with a ready-made LR image (`{stem}x{scale}.png`, the DIV2K and
srlab.prepare layout, or the RCAN/RDN test code's names: srlab.data.naming).

Sizes: an LR partner is HR/scale rounded down (the HR was mod-cropped first, as srlab.prepare
does) or rounded up (MATLAB's imresize of the uncropped HR, as some published LR folders are);
it is used cropped to HR/scale rounded down, the grid of the mod-cropped HR.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from srlab.data.io import list_images
from srlab.data.naming import hr_stem
from srlab.utils.errors import SRLabError


def find_lr_partners(
    hr_stems: Sequence[str], lr_dir: str | Path, scale: int, what: str, fix: str
) -> dict[str, Path]:
    """stem -> its LR file in `lr_dir`, paired by name (srlab.data.naming: `{stem}x{scale}`,
    or the RCAN/RDN `<name>_LRBD_x3` beside `<name>_HR_x3`); an error lists the missing ones
    and `fix`."""
    partners: dict[str, Path] = {}
    for path in list_images(lr_dir, f"LR images of {what}"):
        stem = hr_stem(path.stem, hr_stems, scale)
        if stem is not None and (stem not in partners or path.stem == f"{stem}x{scale}"):
            partners[stem] = path
    missing = [stem for stem in hr_stems if stem not in partners]
    if missing:
        raise SRLabError(
            f"{len(missing)} HR images of {what} have no LR partner {{stem}}x{scale}.png in "
            f"{lr_dir}: {', '.join(missing[:10])}; {fix}"
        )
    return {stem: partners[stem] for stem in hr_stems}


def fit_lr(lr: np.ndarray, hr: np.ndarray, scale: int, lr_path: str | Path) -> np.ndarray:
    """The LR on the mod-cropped HR's grid; an error naming the file when its size is wrong."""
    floor = (hr.shape[0] // scale, hr.shape[1] // scale)
    fits = all(lr.shape[a] in (hr.shape[a] // scale, -(-hr.shape[a] // scale)) for a in (0, 1))
    if not fits or lr.shape[2] != hr.shape[2]:
        stem = Path(lr_path).stem.removesuffix(f"x{scale}")
        raise SRLabError(
            f"{lr_path}: LR is not HR/{scale}: {stem} (HR {size(hr)}, LR {size(lr)}); it must "
            f"be {floor[1]}x{floor[0]}x{hr.shape[2]}: regenerate it with python -m srlab.prepare"
        )
    return lr[: floor[0], : floor[1]]


def size(image: np.ndarray) -> str:
    """W x H, as image viewers say it."""
    return f"{image.shape[1]}x{image.shape[0]}"
