"""`python -m srlab.eval`: a checkpoint, or the bicubic baseline, on benchmark sets by the protocol.

    python -m srlab.eval ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt scale=2 \
        data.sets=[Set5,Set14]
    python -m srlab.eval model=bicubic scale=4

Each image is scored as training validation scores it (same degradation, same metrics, the net
fed the same float LR), so a checkpoint's Set5 numbers here equal the ones its run logged.
"""

from __future__ import annotations

import logging

import torch
from omegaconf import DictConfig
from rich.markup import escape
from rich.progress import Progress
from torch import nn

from srlab.data.sets import BenchmarkSet, resolve_set
from srlab.models.checkpoint import load_net
from srlab.models.inference import super_resolve
from srlab.ops.convert import as_batch, to_float
from srlab.ops.metrics import PSNR, SSIM
from srlab.utils.device import pick_device
from srlab.utils.entry import hydra_entry_point
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_json
from srlab.utils.hydra import instantiate
from srlab.utils.tables import print_table

log = logging.getLogger("srlab")  # not "__main__" under python -m


def evaluate(cfg: DictConfig) -> dict[str, dict[str, float]]:
    """Mean PSNR/SSIM (and image count) per set; printed as a table and written to `output`."""
    # Every set is found before the net is loaded, so a typo fails at once.
    folders = [resolve_set(str(spec), cfg.paths.data_dir) for spec in cfg.data.sets]
    device = pick_device(cfg.device)
    net = build_eval_net(cfg).to(device)
    scale = int(net.scale)
    lr_dirs = cfg.data.get("lr_dirs") or {}
    sets = [BenchmarkSet(name, folder, scale, lr_dirs.get(name)) for name, folder in folders]
    check_unique_names(sets)
    results = {}
    # bf16 autocast on a GPU (eval.autocast=true): as validation runs under trainer=gpu.
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=bool(cfg.get("autocast")))
    with Progress(transient=True) as progress, autocast:
        for benchmark in sets:
            results[benchmark.name] = evaluate_set(
                net, benchmark, device, (cfg.tile, cfg.tile_overlap, cfg.self_ensemble), progress
            )
    print_results_table(results, scale, describe(cfg))
    if cfg.get("output"):
        write_json(cfg.output, results)
        log.info("results written to %s", cfg.output)
    return results


def build_eval_net(cfg: DictConfig) -> nn.Module:
    """`model=bicubic` (at `scale`, 2 when not given), else the net of `ckpt_path` (its scale;
    a given `scale` must match it)."""
    if cfg.get("model"):
        return instantiate(cfg.model, scale=cfg.scale or 2)().eval()
    return load_net(cfg.ckpt_path, cfg.scale, use_ema=cfg.use_ema)


def check_unique_names(sets: list[BenchmarkSet]) -> None:
    names = [benchmark.name for benchmark in sets]
    for name in {name for name in names if names.count(name) > 1}:
        folders = ", ".join(str(b.folder) for b in sets if b.name == name)
        raise SRLabError(
            f"data.sets has two sets named {name} ({folders}): their results would overwrite "
            "each other; rename one folder"
        )


def describe(cfg: DictConfig) -> str:
    """What was evaluated: the net's class (Bicubic), else the checkpoint's path; `+` marks the
    self-ensemble (as EDSR+ and RCAN+ are named)."""
    name = cfg.model._target_.rsplit(".", 1)[-1] if cfg.get("model") else str(cfg.ckpt_path)
    return f"{name} + self-ensemble" if cfg.get("self_ensemble") else name


@torch.inference_mode()
def evaluate_set(
    net: nn.Module,
    benchmark: BenchmarkSet,
    device: torch.device,
    inference: tuple[int | None, int, bool],
    progress: Progress,
) -> dict[str, float]:
    scale = benchmark.scale
    psnr, ssim = PSNR(border=scale).to(device), SSIM(border=scale).to(device)
    task = progress.add_task(f"{benchmark.name} x{scale}", total=len(benchmark))
    for image in benchmark:
        lr = to_float(image.lr)[None].to(device)
        tile, tile_overlap, self_ensemble = inference
        sr = super_resolve(net, lr, scale, tile, tile_overlap, self_ensemble)
        hr = as_batch(image.hr).to(device)
        psnr.update(sr, hr)
        ssim.update(sr, hr)
        progress.advance(task)
    progress.remove_task(task)
    return {"psnr": psnr.compute().item(), "ssim": ssim.compute().item(), "images": len(benchmark)}


def print_results_table(results: dict[str, dict[str, float]], scale: int, model: str) -> None:
    """Set x PSNR/SSIM, as the papers print them."""
    rows = [
        (name, str(r["images"]), f"{r['psnr']:.2f}", f"{r['ssim']:.4f}")
        for name, r in results.items()
    ]
    print_table(f"x{scale}", ("set", "images", "PSNR (dB)", "SSIM"), rows, caption=escape(model))


main = hydra_entry_point("eval", evaluate)


if __name__ == "__main__":
    main()
