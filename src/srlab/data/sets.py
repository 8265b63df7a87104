"""Benchmark sets for evaluation: where a named set lives, and its (LR, HR) pairs by the protocol.

HR is mod-cropped to the scale; LR is the degradation of that crop (srlab.data.degradation:
MATLAB bicubic by default; a random one's noise fixed per image), or read from a given LR folder
paired by name (`{stem}x{scale}.png`, the DIV2K layout, or the RCAN/RDN test sets'
`<name>_LRDN_x3.png` beside `<name>_HR_x3.png`). Images are read one at a time, so a large set
(DIV2K) never sits in memory whole.

Grayscale images (Set14's `bridge.png`) stay 1-channel here and are scored on their gray values
(see srlab.ops.color.scoring_channel). A net that takes RGB sees the gray image replicated to
three channels; its output is turned back into one gray image by `gray_from_rgb`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from srlab.data.degradation import Bicubic, Degradation
from srlab.data.io import list_images, mod_crop, read_image
from srlab.data.lr_partner import find_lr_partners, fit_lr
from srlab.data.naming import display_name
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import asset_dir

log = logging.getLogger(__name__)

# Known set name -> candidate folders under ${paths.data_dir}, the first that exists wins.
KNOWN_SETS: dict[str, tuple[str, ...]] = {
    "Set5": ("benchmarks/Set5",),
    "Set14": ("benchmarks/Set14",),
    "B100": ("benchmarks/B100", "benchmarks/BSD68"),
    "BSD68": ("benchmarks/BSD68",),
    "Urban100": ("benchmarks/Urban100",),
    "Manga109": ("benchmarks/Manga109",),
    "DIV2K": ("DIV2K/DIV2K_valid_HR", "benchmarks/DIV2K"),
}
BUNDLED_SETS = ("Set5",)  # shipped inside the package: always available


@dataclass
class BenchmarkImage:
    name: str
    lr: np.ndarray  # uint8 (h, w, C), C = 3 or 1 (gray)
    hr: np.ndarray  # uint8 (h * scale, w * scale, C): the mod-cropped HR


def resolve_set(spec: str, data_dir: str | Path) -> tuple[str, Path]:
    """(name, folder) of a set given by a known name (Set5, Set14, B100 ...) or a folder path.

    A known name is looked up under `data_dir`; Set5 falls back to the copy bundled with srlab.
    Anything else is a folder, and the set is named after it.
    """
    if spec in KNOWN_SETS:
        candidates = [Path(data_dir) / relative for relative in KNOWN_SETS[spec]]
        for folder in candidates:
            if folder.is_dir():
                return _name_for(spec, folder), folder
        if spec in BUNDLED_SETS:
            return spec, Path(asset_dir(spec))
        looked = " or ".join(str(folder) for folder in candidates)
        raise SRLabError(
            f"benchmark set {spec} not found: looked for {looked}; put its HR images there, "
            f"set paths.data_dir=... to the folder that holds benchmarks/{spec}, "
            f"or pass data.sets=[path/to/{spec}]"
        )
    folder = Path(spec).expanduser()
    if not folder.is_dir():
        known = ", ".join(KNOWN_SETS)
        raise SRLabError(
            f"benchmark set {spec!r} is neither a known set ({known}) nor an existing folder; "
            "pass data.sets=[Set5,path/to/folder,...]"
        )
    return folder.resolve().name, folder


def resolve_spec(spec: str | Mapping, data_dir: str | Path) -> tuple[str, Path, str | None]:
    """(name, HR folder, LR folder or None) of one `data.sets` entry: a known name or a folder
    (resolve_set), or `{hr: <name or folder>, lr: <folder>, name: <optional>}`, HR images with
    their ready-made LR (the papers' noisy test sets are exact only so)."""
    if not isinstance(spec, Mapping):
        return (*resolve_set(str(spec), data_dir), None)
    unknown = sorted(map(str, set(spec) - {"hr", "lr", "name"}))
    if "hr" not in spec or unknown:
        raise SRLabError(
            f"data.sets entry {dict(spec)} (unknown keys: {', '.join(unknown) or 'none'}): give "
            "{hr: <set name or HR folder>, lr: <LR folder>}, optionally with name: <set name>"
        )
    name, folder = resolve_set(str(spec["hr"]), data_dir)
    lr_dir = spec.get("lr")
    if lr_dir is not None and not Path(str(lr_dir)).is_dir():
        raise SRLabError(f"data.sets entry for {name}: LR folder lr={lr_dir} does not exist")
    return str(spec.get("name") or name), folder, str(lr_dir) if lr_dir is not None else None


def _name_for(spec: str, folder: Path) -> str:
    """The name a set is reported under: what was asked, unless a smaller stand-in was found."""
    if spec == "B100" and folder.name == "BSD68":
        log.warning(
            "B100 not found; using %s, its 68-image subset, reported as BSD68 (its numbers are "
            "not comparable with B100's published ones)",
            folder,
        )
        return "BSD68"
    return spec


class BenchmarkSet:
    """The (LR, HR) pairs of one folder of HR images at one scale, read lazily in name order: LR
    from `lr_dir` when given, else made by `degradation` (bicubic when None)."""

    def __init__(
        self,
        name: str,
        folder: str | Path,
        scale: int,
        lr_dir: str | Path | None = None,
        degradation: Degradation | None = None,
    ):
        self.name = name
        self.folder = Path(folder)
        self.scale = scale
        self.degradation = degradation or Bicubic()
        self.files = list_images(self.folder, f"benchmark set {name}")
        self.lr_files = self._lr_files(Path(lr_dir)) if lr_dir else None

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[BenchmarkImage]:
        for index, path in enumerate(self.files):
            name = display_name(path.stem, self.scale)
            hr = mod_crop(read_image(path), self.scale)
            if self.lr_files is None:
                lr = self.degradation.degrade(hr, self.scale, name)
            else:
                lr = fit_lr(read_image(self.lr_files[index]), hr, self.scale, self.lr_files[index])
            yield BenchmarkImage(name, lr, hr)

    def _lr_files(self, lr_dir: Path) -> list[Path]:
        fix = (
            f"make them with python -m srlab.prepare hr_dir={self.folder} out_dir=... "
            f"scales=[{self.scale}], or drop data.lr_dirs.{self.name} to degrade HR exactly"
        )
        stems = [path.stem for path in self.files]
        partners = find_lr_partners(stems, lr_dir, self.scale, f"{self.name} ({self.folder})", fix)
        return [partners[stem] for stem in stems]
