"""`python -m srlab.upscale`: super-resolve a folder of images with a trained checkpoint.

    python -m srlab.upscale ckpt_path=<run>/checkpoints/best-step5000.ckpt scale=2 \
        input=photos/ output=photos_x2/

Each image goes through the net as validation runs it (`super_resolve`: gray images through an
RGB net, large images in tiles) and is written as `<output>/<stem>.png`, atomically.
"""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig
from rich.progress import track

from srlab.data.io import list_images, read_image, write_image
from srlab.models.checkpoint import load_net
from srlab.models.inference import super_resolve
from srlab.ops.convert import to_float, to_levels
from srlab.utils.device import pick_device
from srlab.utils.entry import hydra_entry_point
from srlab.utils.errors import SRLabError


@torch.inference_mode()
def upscale(cfg: DictConfig) -> list[Path]:
    """The written SR images, one per image of `input`."""
    files = list_images(cfg.input, "input")
    device = pick_device(cfg.device)
    net = load_net(cfg.ckpt_path, int(cfg.scale), use_ema=cfg.use_ema).to(device)
    written = []
    for path in track(files, description=f"x{cfg.scale}"):
        lr = to_float(read_image(path))[None].to(device)
        sr = super_resolve(net, lr, int(cfg.scale), cfg.tile, cfg.tile_overlap)[0]
        written.append(Path(cfg.output) / f"{path.stem}.png")
        write_image(written[-1], to_levels(sr))
    return written


main = hydra_entry_point("upscale", upscale)


if __name__ == "__main__":
    main()
