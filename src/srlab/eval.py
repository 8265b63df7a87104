"""`python -m srlab.eval`: a checkpoint, or the bicubic baseline, on benchmark sets by the protocol.

    python -m srlab.eval ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt scale=2 \
        data.sets=[Set5,Set14]
    python -m srlab.eval eval_model@model=bicubic scale=4

Each image is scored as training validation scores it (same degradation, same metrics, the net
fed the same float LR), so a checkpoint's Set5 numbers here equal the ones its run logged.
"""

from __future__ import annotations

import logging

import hydra
import numpy as np
import torch
from omegaconf import DictConfig
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from torch import Tensor, nn

from srlab.config import config_dir, instantiate
from srlab.data.benchmarks import BenchmarkSet, as_batch, gray_from_rgb, resolve_set
from srlab.data.datasets import to_tensor
from srlab.entry import run_entry_point
from srlab.errors import SRLabError
from srlab.metrics import PSNR, SSIM
from srlab.ops.imresize import imresize
from srlab.ops.tiling import tiled_forward
from srlab.summary import write_json

log = logging.getLogger(__name__)


class Bicubic(nn.Module):
    """The papers' bicubic baseline as a net: MATLAB imresize of the uint8 LR, x `scale`.

    Takes and returns float images in [0, 1] like any srlab net, with any number of channels (a
    gray image stays gray). The LR is turned back into its uint8 levels first, which is exact for
    an LR read from a PNG, so the result is MATLAB's uint8 upscale to the last level.
    """

    def __init__(self, scale: int):
        super().__init__()
        self.scale = scale

    def forward(self, lr: Tensor) -> Tensor:
        # (B, C, h, w) in [0, 1] -> (B, C, h * scale, w * scale)
        levels = lr.clamp(0, 1).mul(255).round().to(torch.uint8)
        return imresize(levels, scale=float(self.scale)).float().div_(255)


def evaluate(cfg: DictConfig) -> dict[str, dict[str, float]]:
    """Mean PSNR/SSIM (and image count) per set; printed as a table and written to `output`."""
    scale = int(cfg.scale)
    # Every set is found before the net is loaded, so a typo fails at once.
    lr_dirs = cfg.data.get("lr_dirs") or {}
    sets = [
        BenchmarkSet(name, folder, scale, lr_dirs.get(name))
        for name, folder in (resolve_set(str(spec), cfg.paths.data_dir) for spec in cfg.data.sets)
    ]
    check_unique_names(sets)
    device = pick_device(cfg.device)
    net = instantiate(cfg.model).to(device)
    results = {}
    with Progress(transient=True) as progress:
        for benchmark in sets:
            results[benchmark.name] = evaluate_set(
                net, benchmark, device, cfg.tile, cfg.tile_overlap, progress
            )
    print_results_table(results, scale, describe(cfg))
    if cfg.get("output"):
        write_json(cfg.output, results)
        log.info("results written to %s", cfg.output)
    return results


def check_unique_names(sets: list[BenchmarkSet]) -> None:
    names = [benchmark.name for benchmark in sets]
    for name in {name for name in names if names.count(name) > 1}:
        folders = ", ".join(str(b.folder) for b in sets if b.name == name)
        raise SRLabError(
            f"data.sets has two sets named {name} ({folders}): their results would overwrite "
            "each other; rename one folder"
        )


def pick_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(device)
    except RuntimeError as error:
        raise SRLabError(
            f"device={device!r} is not a device: use auto, cpu, cuda or cuda:N"
        ) from error


def describe(cfg: DictConfig) -> str:
    """What was evaluated: the checkpoint's path, else the net's class (Bicubic)."""
    return str(cfg.model.get("path") or cfg.model._target_.rsplit(".", 1)[-1])


@torch.inference_mode()
def evaluate_set(
    net: nn.Module,
    benchmark: BenchmarkSet,
    device: torch.device,
    tile: int | None,
    tile_overlap: int,
    progress: Progress,
) -> dict[str, float]:
    scale = benchmark.scale
    psnr, ssim = PSNR(border=scale).to(device), SSIM(border=scale).to(device)
    task = progress.add_task(f"{benchmark.name} x{scale}", total=len(benchmark))
    for image in benchmark:
        sr = super_resolve(net, image.lr, scale, device, tile, tile_overlap)
        hr = as_batch(image.hr).to(device)
        psnr.update(sr, hr)
        ssim.update(sr, hr)
        progress.advance(task)
    progress.remove_task(task)
    return {"psnr": psnr.compute().item(), "ssim": ssim.compute().item(), "images": len(benchmark)}


def super_resolve(
    net: nn.Module,
    lr: np.ndarray,
    scale: int,
    device: torch.device,
    tile: int | None,
    tile_overlap: int,
) -> Tensor:
    """uint8 (h, w, C) LR -> float (1, C, H, W) SR in [0, 1], C as the LR's (gray stays gray).

    The net sees what validation feeds it: the LR as a contiguous float tensor in [0, 1]. A gray
    LR is replicated for an RGB net, whose output is then made gray again (benchmarks.py).
    """
    x = to_tensor(lr)[None].contiguous().to(device)  # (1, C, h, w)
    channels = input_channels(net)
    gray_through_rgb = x.shape[1] == 1 and channels == 3
    if gray_through_rgb:
        x = x.expand(-1, 3, -1, -1)
    elif channels is not None and x.shape[1] != channels:
        raise SRLabError(
            f"the net takes {channels}-channel images but the LR has {x.shape[1]} channels"
        )
    sr = tiled_forward(net, x, scale, tile, tile_overlap).clamp_(0, 1)
    return gray_from_rgb(sr) if gray_through_rgb else sr


def input_channels(net: nn.Module) -> int | None:
    """The channels the net's first convolution takes; None for a net without one (bicubic)."""
    first = next((m for m in net.modules() if isinstance(m, nn.Conv2d)), None)
    return first.in_channels if first is not None else None


def print_results_table(results: dict[str, dict[str, float]], scale: int, model: str) -> None:
    """Set x PSNR/SSIM, as the papers print them."""
    table = Table(title=f"x{scale}", caption=model)
    for column in ("set", "images", "PSNR (dB)", "SSIM"):
        table.add_column(column, justify="left" if column == "set" else "right")
    for name, result in results.items():
        table.add_row(name, str(result["images"]), f"{result['psnr']:.2f}", f"{result['ssim']:.4f}")
    Console().print(table)


@hydra.main(version_base="1.3", config_path=config_dir(), config_name="eval")
def main(cfg: DictConfig) -> dict[str, dict[str, float]] | None:
    return run_entry_point(evaluate, cfg)


if __name__ == "__main__":
    main()
