r"""`python -m srlab.upscale`: super-resolve the images people have with a trained net.

    python -m srlab.upscale ckpt_path=<run>/checkpoints/best-step5000.ckpt \
        input=photos/ output=photos_x2/
    python -m srlab.upscale ckpt_path=net_x4.onnx input='shots/**/*.jpg' output=big/ format=jpg

`input=` is an image, a folder or a quoted glob; the scale is the checkpoint's. Each image goes
through the net as validation runs it (`super_resolve`: gray images through an RGB net come back
gray, large images go in tiles) and is written as `<output>/<stem>.<format>`, atomically, with
what the photo carries (`data/photos.py`): upright (its EXIF orientation applied), its ICC
profile, its alpha (upscaled by the exact bicubic: the net sees the color only), and its 16 bits
in PNG (the net's float output rounded to 16-bit levels, never through 8 bits).
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from srlab.data.photos import FORMATS, Format, Photo, find_photos, read_photo, write_photo
from srlab.ops.imresize import imresize
from srlab.ops.inference import passes, super_resolve
from srlab.ops.pixels import hwc, planes
from srlab.utils.device import pick_device
from srlab.utils.entry import hydra_entry_point
from srlab.utils.errors import SRLabError
from srlab.weights.loading import load_net

log = logging.getLogger("srlab")  # not "__main__" under python -m
USAGE = (
    "python -m srlab.upscale ckpt_path=<run>/checkpoints/last.ckpt"
    " input=<image, folder or 'glob'> output=<dir>"
)
EXAMPLES = (
    (
        "python -m srlab.upscale ckpt_path=<run>/checkpoints/last.ckpt input=photo.png "
        "output=logs/upscaled/"
    ),
    (
        "python -m srlab.upscale ckpt_path=<run>/checkpoints/last.ckpt input='shots/**/*.jpg' "
        "output=logs/upscaled/ format=jpg quality=92"
    ),
    (
        "python -m srlab.upscale ckpt_path=logs/export/net_x2.onnx input=photos/ "
        "output=logs/upscaled/ overwrite=true"
    ),
)


@torch.inference_mode()
def upscale(cfg: DictConfig) -> list[Path]:
    """The written images, one per image of `input`, in its order."""
    output_format = check_format(cfg.format, cfg.quality)
    files = find_photos(cfg.input)
    targets = output_paths(files, Path(cfg.output), output_format.suffix, cfg.overwrite)
    device = pick_device(cfg.device)
    scale = None if cfg.scale is None else int(cfg.scale)
    net = load_net(cfg.ckpt_path, scale, use_ema=cfg.use_ema).to(device)
    scale = int(net.scale)
    tiling = {
        "tile": cfg.tile,
        "tile_overlap": cfg.tile_overlap,
        "self_ensemble": cfg.self_ensemble,
    }
    enhance = partial(super_resolve, net, scale=scale, **tiling)
    pairs = list(zip(files, targets, strict=True))
    with progress_bar() as progress:
        images = progress.add_task(f"x{scale}", total=len(pairs))
        for written, (source, target) in enumerate(pairs):
            try:
                photo = read_photo(source)
                on_tile = tiles_bar(progress, source.name, passes(*photo.color.shape[:2], **tiling))
                sr = upscale_photo(
                    photo, source, partial(enhance, on_tile=on_tile), scale, output_format, device
                )
                write_photo(target, sr, output_format, cfg.quality)
            except KeyboardInterrupt:  # what is done stays done: each file is written whole
                done = f"{written} of {len(pairs)} images written to {cfg.output}"
                raise KeyboardInterrupt(done) from None
            progress.advance(images)
    noun = "image" if len(targets) == 1 else "images"
    log.info("%d %s written to %s", len(targets), noun, cfg.output)
    return targets


def upscale_photo(
    photo: Photo,
    source: Path,
    enhance: Callable[[torch.Tensor], torch.Tensor],
    scale: int,
    output_format: Format,
    device: torch.device,
) -> Photo:
    """The SR photo, at the photo's depth where the format has it, with its ICC profile."""
    bits = min(photo.bits, output_format.max_bits)
    alpha = kept_alpha(photo, source, output_format)
    lr = unit_planes(photo.color)[None].to(device)
    try:
        sr = enhance(lr)[0]
    except SRLabError as error:
        raise SRLabError(f"{source}: {error}") from error
    sr_alpha = None
    if alpha is not None:  # no picture the net learned: srlab's exact bicubic, in float64
        sr_alpha = levels(imresize(unit_planes(alpha, np.float64), scale=scale), bits)[..., 0]
    return Photo(levels(sr, bits), sr_alpha, photo.icc_profile)


def unit_planes(samples: np.ndarray, dtype: type = np.float32) -> torch.Tensor:
    """uint8 or uint16 (H, W, C) or (H, W) -> float (C, H, W) in [0, 1]."""
    samples = samples[..., None] if samples.ndim == 2 else samples
    return planes(samples.astype(dtype) / np.iinfo(samples.dtype).max)


def levels(image: torch.Tensor, bits: int) -> np.ndarray:
    """Float (C, H, W) in [0, 1] -> (H, W, C) levels of `bits` bits, rounded once, from float."""
    top = (1 << bits) - 1
    return hwc(image.clamp(0, 1).mul(top).round()).astype(np.uint16 if bits > 8 else np.uint8)


def kept_alpha(photo: Photo, source: Path, output_format: Format) -> np.ndarray | None:
    """The alpha to upscale; an opaque one is dropped for a format without alpha, a real one is
    refused (its transparent pixels would turn into whatever color they hide)."""
    if photo.alpha is None or output_format.alpha:
        return photo.alpha
    if (photo.alpha < np.iinfo(photo.alpha.dtype).max).any():
        raise SRLabError(
            f"{source} has transparent pixels, which {output_format.pil_name} cannot keep; "
            "pass format=png or format=webp"
        )
    return None


def check_format(format_name: str, quality: int) -> Format:
    if format_name not in FORMATS:
        raise SRLabError(f"format={format_name} is not an output format; pass format=png|jpg|webp")
    if not 1 <= int(quality) <= 100:
        raise SRLabError(f"quality={quality} is out of range; pass quality=1..100 (jpg, webp)")
    return FORMATS[format_name]


def output_paths(
    files: list[Path], output: Path, suffix: str, overwrite: bool = False
) -> list[Path]:
    """`<output>/<stem><suffix>` for each file; refused when one would overwrite an input, two
    inputs would write the same file, or (unless `overwrite`) an earlier result is there."""
    if output.exists() and not output.is_dir():
        raise SRLabError(f"output: {output} is a file; pass a folder for the results")
    targets = [output / f"{path.stem}{suffix}" for path in files]
    inputs = {file_id(path): path for path in files}
    sources = defaultdict(list)
    for path, target in zip(files, targets, strict=True):
        overwritten = inputs.get(file_id(target)) if target.exists() else None
        if overwritten is not None:
            raise SRLabError(
                f"output: {target} would overwrite the input {overwritten}; pass another "
                "output folder (or another format=)"
            )
        sources[target].append(path)
    for target, paths in sources.items():
        if len(paths) > 1:
            raise SRLabError(
                f"output: {' and '.join(map(str, paths))} would all be written to {target}; "
                "upscale them into separate output folders"
            )
    earlier = [target for target in targets if target.exists()]
    if earlier and not overwrite:
        names = ", ".join(target.name for target in earlier[:3]) + (", ..." * (len(earlier) > 3))
        raise SRLabError(
            f"output: {len(earlier)} of the {len(targets)} results are in {output} already "
            f"({names}); pass overwrite=true to replace them, or another output folder"
        )
    return targets


def file_id(path: Path) -> tuple[int, int]:
    """The file itself, whatever the path's case, links or `..` (an input reached two ways)."""
    status = os.stat(path)
    return status.st_dev, status.st_ino


class ImagesPerSecond(ProgressColumn):
    """Rich's recent rate; the mean rate until it has one (after a single image, say). Of
    images, or of what the task's `unit` field names (a large image's tiles)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed and task.completed and task.elapsed:
            speed = task.completed / task.elapsed
        unit = task.fields.get("unit", "images")
        return Text(
            f"{speed:.2f} {unit}/s" if speed else f"-.-- {unit}/s", style="progress.data.speed"
        )


def tiles_bar(progress: Progress, name: str, count: int) -> Callable[[], None] | None:
    """A bar of a large image's passes (tiles), under the images' bar; what advances it. Gone
    when the image is done (its last advance); none for an image of one pass."""
    if count <= 1:
        return None
    task = progress.add_task(f"  {name}", total=count, unit="tiles")

    def advance() -> None:
        progress.advance(task)
        if next(shown for shown in progress.tasks if shown.id == task).finished:
            progress.remove_task(task)

    return advance


def progress_bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        ImagesPerSecond(),
        TimeRemainingColumn(),
    )


main = hydra_entry_point("upscale", upscale, USAGE, __doc__, EXAMPLES)


if __name__ == "__main__":
    main()
