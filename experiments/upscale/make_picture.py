"""The README's before/after picture of `python -m srlab.upscale`: a crop of one Set5 image,
bicubic beside the net, with the HR it came from, each captioned with its PSNR on the image.

    .venv/bin/python experiments/upscale/make_picture.py                 # the newest make train run
    .venv/bin/python experiments/upscale/make_picture.py --ckpt <run>/checkpoints/best-step1500.ckpt

The LR is the protocol's (MATLAB-exact bicubic downscale of the HR), the SR is what
`srlab.upscale` writes for it, and bicubic is the same exact bicubic upscaling the LR.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from matplotlib.figure import Figure  # not pyplot: no GUI backend to pick

import srlab
from srlab.data.io import mod_crop, read_image, write_image
from srlab.weights.loading import load_net
from srlab.ops.pixels import as_batch, hwc, planes
from srlab.ops.imresize import imresize
from srlab.ops.quality import psnr
from srlab.reporting.plots import figure_png
from srlab.upscale import upscale
from srlab.utils.files import write_atomic
from srlab.utils.hydra import compose_config

ROOT = Path(__file__).resolve().parents[2]
SET5 = Path(srlab.__file__).parent / "assets" / "Set5"


def newest_checkpoint() -> Path:
    """The newest run's best checkpoint (its last one if it kept no best), under logs/train/runs:
    check that it is the run you mean (tests and sweeps write runs there too)."""
    for run in sorted((ROOT / "logs" / "train" / "runs").glob("*"), reverse=True):
        found = list(run.glob("checkpoints/best-*.ckpt")) or list(run.glob("checkpoints/*.ckpt"))
        if found:
            return max(found, key=lambda path: path.stat().st_mtime)
    raise SystemExit("no checkpoint under logs/train/runs: run `make train` first, or pass --ckpt")


def upscaled(ckpt: Path, lr_path: Path, work: Path) -> Path:
    """What `python -m srlab.upscale ckpt_path=<ckpt> input=<lr_path> output=<work>/sr` writes."""
    cfg = compose_config(
        "upscale",
        [
            f"ckpt_path={ckpt}",
            f"input={lr_path}",
            f"output={work / 'sr'}",
            f"paths.output_dir={work / 'hydra'}",
        ],
    )
    return upscale(cfg)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", type=Path, default=None, help="default: the newest run's best")
    parser.add_argument("--image", default="butterfly", help="a Set5 image (bundled)")
    parser.add_argument("--crop", type=int, nargs=3, default=(88, 88, 96), help="HR top left size")
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("before_after.png"))
    args = parser.parse_args()
    ckpt = args.ckpt or newest_checkpoint()
    scale = int(load_net(ckpt).scale)
    hr = mod_crop(read_image(SET5 / f"{args.image}.png"), scale)
    lr = hwc(imresize(planes(hr), scale=1 / scale))
    bicubic = hwc(imresize(planes(lr), scale=scale))
    with tempfile.TemporaryDirectory() as work:
        write_image(Path(work) / f"{args.image}.png", lr)
        sr = read_image(upscaled(ckpt, Path(work) / f"{args.image}.png", Path(work)))
    top, left, size = args.crop
    figure = Figure(figsize=(9, 3.4))
    axes = figure.subplots(1, 3)
    for axis, (label, image) in zip(
        axes, (("bicubic", bicubic), (f"srlab ({ckpt.name})", sr), ("HR", hr)), strict=True
    ):
        score = psnr(as_batch(image), as_batch(hr), border=scale)[0].item()
        axis.imshow(image[top : top + size, left : left + size], interpolation="nearest")
        axis.set_title(label if label == "HR" else f"{label}\n{score:.2f} dB", fontsize=9)
        axis.axis("off")
    figure.suptitle(f"Set5 {args.image}, x{scale}: a {size}x{size} crop", fontsize=10)
    write_atomic(args.output, figure_png(figure))
    print(f"wrote {args.output} (checkpoint {ckpt})")


if __name__ == "__main__":
    main()
