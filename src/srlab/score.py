r"""`python -m srlab.score`: PSNR/SSIM of a folder of SR results against their ground truth.

    python -m srlab.score sr_dir=results/Set14/x4 hr_dir=data/benchmarks/Set14 scale=4 \
        output=scores.json

Files are matched by name: an SR file `baby.png` goes with the HR `baby.png` (any extension).
SR names may also carry what SR tools append to the HR name, in any combination: `x4`, `_x4`,
`-x4`, `_SR` (EDSR's `baby_x4_SR.png`, DIV2K's `0801x4.png`), and the RCAN/RDN test code's
`baby_RDN_x3.png` pairs with `baby_HR_x3.png` (srlab.data.naming). HR is mod-cropped to the scale
and both are scored by the protocol (Y channel, `scale` pixels shaved). A gray HR image is
scored on its gray values; an RGB result for it is made gray as eval makes it
(`srlab.ops.inference.super_resolve`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from rich.progress import Progress
from torch import Tensor

from srlab.data.io import list_images, mod_crop, read_image
from srlab.data.naming import display_name, hr_stem
from srlab.ops.color import gray_from_rgb
from srlab.ops.pixels import as_batch
from srlab.ops.quality import psnr, ssim
from srlab.utils.entry import hydra_entry_point
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_json
from srlab.utils.tables import print_table

log = logging.getLogger("srlab")  # not "__main__" under python -m
USAGE = (
    "python -m srlab.score sr_dir=results/x4 hr_dir=data/benchmarks/Set14 scale=4"
    " output=scores.json"
)
EXAMPLES = (
    "python -m srlab.score sr_dir=logs/sr_set5 hr_dir=src/srlab/assets/Set5 scale=2",
    "python -m srlab.score sr_dir=results/Set14/x4 hr_dir=data/benchmarks/Set14 scale=4",
    "python -m srlab.score sr_dir=results/x3 hr_dir=data/benchmarks/B100 scale=3 output=b100.json",
)


def score(cfg: DictConfig) -> dict:
    """{"images": [{"name", "psnr", "ssim"}], "mean": {"psnr", "ssim"}}; printed and written."""
    if not isinstance(cfg.scale, int) or cfg.scale < 1:
        raise SRLabError(f"scale={cfg.get('scale')} must be the integer scale, e.g. scale=4")
    scale = cfg.scale
    pairs = match_files(list_images(cfg.sr_dir, "sr_dir"), list_images(cfg.hr_dir, "hr_dir"), scale)

    images = []
    with Progress(transient=True) as progress:
        for sr_path, hr_path in progress.track(pairs, description=f"scoring x{scale}"):
            sr, hr = scored_pair(sr_path, hr_path, scale)
            images.append(
                {
                    "name": display_name(hr_path.stem, scale),
                    "psnr": psnr(sr, hr, border=scale).item(),
                    "ssim": ssim(sr, hr, border=scale).item(),
                }
            )
    # The papers' set score: the mean of the per-image values.
    mean = {key: float(np.mean([image[key] for image in images])) for key in ("psnr", "ssim")}
    scores = {"images": images, "mean": mean}
    print_scores_table(scores, scale, Path(cfg.sr_dir))
    if cfg.get("output"):
        write_json(cfg.output, scores)
        log.info("scores written to %s", cfg.output)
    return scores


def match_files(sr_files: list[Path], hr_files: list[Path], scale: int) -> list[tuple[Path, Path]]:
    """(SR, HR) pairs in HR name order; names that pair with nothing, or twice, are errors."""
    hr_by_stem = {path.stem: path for path in hr_files}
    matched: dict[str, list[Path]] = {}
    unmatched_sr = []
    for path in sr_files:
        stem = hr_stem(path.stem, hr_by_stem, scale)
        if stem is not None:
            matched.setdefault(stem, []).append(path)
        else:
            unmatched_sr.append(path.name)
    unmatched_hr = [path.name for path in hr_files if path.stem not in matched]
    doubles = [" & ".join(p.name for p in paths) for paths in matched.values() if len(paths) > 1]
    problems = []
    if unmatched_sr:
        problems.append(f"SR files with no HR of the same name: {_listing(unmatched_sr)}")
    if unmatched_hr:
        problems.append(f"HR files with no SR result: {_listing(unmatched_hr)}")
    if doubles:
        problems.append(f"SR files that match the same HR: {_listing(doubles)}")
    if problems:
        raise SRLabError(
            f"sr_dir {sr_files[0].parent} and hr_dir {hr_files[0].parent} do not pair up: "
            f"{'; '.join(problems)}. SR files must be named as their HR (optionally followed by "
            f"x{scale}, _x{scale} or _SR, or <name>_<method>_x{scale} beside <name>_HR_x{scale}); "
            "rename them or score a folder with exactly the results"
        )
    return [(matched[path.stem][0], path) for path in hr_files]


def _listing(names: list[str], limit: int = 10) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def scored_pair(sr_path: Path, hr_path: Path, scale: int) -> tuple[Tensor, Tensor]:
    """(1, C, H, W) SR and mod-cropped HR, C = 1 for a gray HR; size mismatches name both files."""
    sr = read_image(sr_path)
    hr = mod_crop(read_image(hr_path), scale)
    if sr.shape[:2] != hr.shape[:2]:
        raise SRLabError(
            f"{sr_path} is {sr.shape[1]}x{sr.shape[0]} but its HR {hr_path} mod-cropped to "
            f"x{scale} is {hr.shape[1]}x{hr.shape[0]}; an SR result must be the LR (HR/{scale}, "
            "rounded down) upscaled by the scale: check scale= and the result"
        )
    sr_tensor, hr_tensor = as_batch(sr), as_batch(hr)
    if hr.shape[2] == 1 and sr.shape[2] == 3:
        return gray_from_rgb(sr_tensor.double() / 255), hr_tensor
    if hr.shape[2] == 3 and sr.shape[2] == 1:
        raise SRLabError(
            f"{sr_path} is gray but its HR {hr_path} is in colour; score an RGB result"
        )
    return sr_tensor, hr_tensor


def print_scores_table(scores: dict, scale: int, sr_dir: Path) -> None:
    rows = [(i["name"], f"{i['psnr']:.2f}", f"{i['ssim']:.4f}") for i in scores["images"]]
    mean = scores["mean"]
    footer = [("mean", f"{mean['psnr']:.2f}", f"{mean['ssim']:.4f}")]
    print_table(f"{sr_dir} (x{scale})", ("image", "PSNR (dB)", "SSIM"), rows, footer=footer)


main = hydra_entry_point("score", score, USAGE, __doc__, EXAMPLES)


if __name__ == "__main__":
    main()
