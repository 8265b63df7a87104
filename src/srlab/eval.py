r"""`python -m srlab.eval`: a checkpoint or the bicubic baseline on benchmark sets, by the protocol.

    python -m srlab.eval ckpt_path=logs/train/runs/<run>/checkpoints/last.ckpt scale=2 \
        data.sets=[Set5,Set14]
    python -m srlab.eval model=bicubic scale=4

Each image is scored as training validation scores it (same degradation, same metrics, the net
fed the same float LR), so a checkpoint's Set5 numbers here equal the ones its run logged.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, ListConfig
from rich.markup import escape
from rich.progress import Progress
from torch import nn

from srlab.data.degradation import Bicubic, Degradation
from srlab.data.sets import BenchmarkSet, resolve_spec
from srlab.ops.cost import Cost, measure_cost
from srlab.ops.inference import super_resolve
from srlab.ops.pixels import as_batch, to_float
from srlab.reporting.leaderboard import Entry, header, read_papers, rows, write_leaderboard
from srlab.utils.device import pick_device
from srlab.utils.entry import hydra_entry_point
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_json
from srlab.utils.hydra import instantiate
from srlab.utils.tables import print_table
from srlab.weights.loading import load_net

log = logging.getLogger("srlab")  # not "__main__" under python -m
SetSpec = tuple[str, Path, str | None]  # name, HR folder, LR folder (None: made by the degradation)
WEIGHT_SUFFIXES = (".pth", ".pt", ".ckpt", ".mat", ".safetensors", ".onnx")
USAGE = (
    "python -m srlab.eval ckpt_path=<run>/checkpoints/last.ckpt data.sets=[Set5,Set14]"
    " [self_ensemble=true]"
)
EXAMPLES = (
    "python -m srlab.eval ckpt_path=<run>/checkpoints/last.ckpt    # Set5 (bundled)",
    (
        "python -m srlab.eval ckpt_path=<run>/checkpoints/last.ckpt self_ensemble=true "
        "'data.sets=[Set5,Set14]' paths.data_dir=../shared/data"
    ),
    "python -m srlab.eval model=bicubic scale=4                     # the bicubic baseline",
)


def evaluate(cfg: DictConfig) -> dict[str, Any]:
    """Mean PSNR/SSIM (and image count) per set and the net's cost, printed as a table and
    written to `output`; several checkpoints (a list, a folder, a glob) make a leaderboard."""
    # Every set is found before the net is loaded, so a typo fails at once.
    folders = [resolve_spec(spec, cfg.paths.data_dir) for spec in cfg.data.sets]
    paths = checkpoint_paths(cfg.ckpt_path) if not cfg.get("model") else []
    if len(paths) > 1:
        return evaluate_leaderboard(cfg, folders, paths)
    net = build_eval_net(cfg, paths[0] if paths else None)
    with Progress(transient=True) as progress:
        results = evaluate_net(cfg, net, folders, progress)
    caption = f"{model_label(cfg)} · {lr_label(cfg, folders)}"
    print_results_table(results, int(net.scale), caption)
    cost = measure_cost(net, int(net.scale), **cost_settings(cfg))
    print_cost(cost)
    if cfg.get("output"):
        write_json(cfg.output, {**results, "cost": cost.as_dict()})
        log.info("results written to %s", cfg.output)
    return {**results, "cost": cost.as_dict()}


def evaluate_net(
    cfg: DictConfig, net: nn.Module, folders: list[SetSpec], progress: Progress
) -> dict[str, dict[str, float]]:
    """Each set's mean PSNR/SSIM for `net`, at its scale, on the configured device: LR from the
    set's LR folder when it has one, else made by `degradation`."""
    device = pick_device(cfg.device)
    net = net.to(device)
    scale = int(net.scale)
    lr_dirs = cfg.data.get("lr_dirs") or {}
    degradation = degradation_of(cfg)
    sets = [
        BenchmarkSet(name, folder, scale, lr_dir or lr_dirs.get(name), degradation)
        for name, folder, lr_dir in folders
    ]
    check_unique_names(sets)
    results = {}
    # bf16 autocast on a GPU (eval.autocast=true): as validation runs under trainer=gpu.
    autocast = torch.autocast(device.type, torch.bfloat16, enabled=bool(cfg.get("autocast")))
    with autocast:
        for benchmark in sets:
            results[benchmark.name] = evaluate_set(
                net, benchmark, device, (cfg.tile, cfg.tile_overlap, cfg.self_ensemble), progress
            )
    net.cpu()
    return results


def degradation_of(cfg: DictConfig) -> Degradation | None:
    return instantiate(cfg.degradation) if cfg.get("degradation") else None


def lr_label(cfg: DictConfig, folders: list[SetSpec]) -> str:
    """What made the LR: the degradation, and which sets read theirs from a folder instead."""
    lr_dirs = cfg.data.get("lr_dirs") or {}
    from_folders = [name for name, _, lr_dir in folders if lr_dir or name in lr_dirs]
    label = f"LR: {(degradation_of(cfg) or Bicubic()).name}"
    return label + (f" (LR folders: {', '.join(from_folders)})" if from_folders else "")


def cost_settings(cfg: DictConfig) -> dict[str, Any]:
    cost = cfg.get("cost") or {}
    return {
        "input": cost.get("input", "hd"),
        "latency": bool(cost.get("latency", True)),
        "warmup": int(cost.get("warmup", 1)),
        "repeats": int(cost.get("repeats", 3)),
    }


def print_cost(cost: Cost) -> None:
    latency = (
        f"{cost.latency_ms:.1f} ms on {cost.device} ({cost.threads} threads)"
        if cost.latency_ms is not None
        else "not measured"
    )
    memory = f", peak {cost.peak_memory_mb:.0f} MB" if cost.peak_memory_mb is not None else ""
    input = "x".join(map(str, cost.input))
    print_table(
        "cost",
        ("parameters", "MACs (G)", "input", "latency", "memory"),
        [(f"{cost.params:,}", f"{cost.macs / 1e9:.2f}", input, latency, memory.lstrip(", "))],
    )


def checkpoint_paths(spec: Any) -> list[Path]:
    """`ckpt_path` as files: one path, a list of them, a folder (its weight files) or a glob."""
    specs = [str(item) for item in spec] if isinstance(spec, ListConfig | list) else [spec]
    paths: list[Path] = []
    for item in specs:
        if item is None:
            continue
        if any(char in item for char in "*?["):
            found = sorted(Path(p) for p in glob.glob(item, recursive=True))
            paths += [path for path in found if path.suffix.lower() in WEIGHT_SUFFIXES]
            if not found:
                raise SRLabError(f"ckpt_path={item} matches no file; check the pattern")
        elif Path(item).is_dir():
            found = sorted(p for p in Path(item).rglob("*") if p.suffix.lower() in WEIGHT_SUFFIXES)
            if not found:
                suffixes = ", ".join(WEIGHT_SUFFIXES)
                raise SRLabError(f"ckpt_path={item} is a folder with no weight file ({suffixes})")
            paths += found
        else:
            paths.append(Path(item))
    return paths


def evaluate_leaderboard(
    cfg: DictConfig, folders: list[SetSpec], paths: list[Path]
) -> dict[str, Any]:
    """Every model on every set at `scale`; another scale's models are skipped with a line, a
    model that fails is marked and the others go on. Writes leaderboard.md/.csv/.html."""
    papers = read_papers(cfg.get("papers"))
    entries: list[Entry] = []
    with Progress(transient=True) as progress:
        task = progress.add_task("models x sets", total=len(paths) * len(folders))
        for path in paths:
            entry = evaluate_entry(cfg, path, folders, papers, progress)
            progress.advance(task, len(folders))
            if entry is not None:
                entries.append(entry)
    set_names = [name for name, *_ in folders]
    caption = f"x{cfg.scale or 'each file'}'s scale; cost: {cost_settings(cfg)['input']} input"
    print_table(
        f"leaderboard x{cfg.scale}" if cfg.scale else "leaderboard",
        header(set_names),
        [[escape(cell) for cell in row] for row in rows(entries, set_names)],
    )
    output_dir = Path(cfg.output).parent if cfg.get("output") else Path(cfg.paths.output_dir)
    for path in write_leaderboard(output_dir, entries, set_names, caption):
        log.info("wrote %s", path)
    return {
        entry.name: {"error": entry.error} if entry.error else {**entry.scores, "cost": entry.cost}
        for entry in entries
    }


def evaluate_entry(
    cfg: DictConfig,
    path: Path,
    folders: list[SetSpec],
    papers: dict,
    progress: Progress,
) -> Entry | None:
    entry = Entry(name=path.name, path=str(path))
    try:
        net = load_net(path, cfg.scale, use_ema=cfg.use_ema)
    except SRLabError as error:
        if "was trained for" in str(error):
            log.info("skipped %s: %s", path, str(error).split(";")[0])
            return None
        return failed(entry, error)
    except Exception as error:  # noqa: BLE001 - one broken file must not stop the leaderboard
        return failed(entry, error)
    try:
        entry.scores = evaluate_net(cfg, net, folders, progress)
        entry.cost = measure_cost(net, int(net.scale), **cost_settings(cfg)).as_dict()
    except Exception as error:  # noqa: BLE001
        return failed(entry, error)
    entry.paper = papers.get(path.name, {}).get(int(net.scale), {})
    return entry


def build_eval_net(cfg: DictConfig, path: Path | None = None) -> nn.Module:
    """`model=bicubic` (at `scale`, 2 when not given), else the net of `ckpt_path` (its scale;
    a given `scale` must match it)."""
    if cfg.get("model"):
        return instantiate(cfg.model, scale=cfg.scale or 2)().eval()
    return load_net(path, cfg.scale, use_ema=cfg.use_ema)  # one file: a list of one too


def check_unique_names(sets: list[BenchmarkSet]) -> None:
    names = [benchmark.name for benchmark in sets]
    for name in {name for name in names if names.count(name) > 1}:
        folders = ", ".join(str(b.folder) for b in sets if b.name == name)
        raise SRLabError(
            f"data.sets has two sets named {name} ({folders}): their results would overwrite "
            "each other; rename one folder"
        )


def model_label(cfg: DictConfig) -> str:
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
    # torchmetrics loads here, not above: a mistake on the command line is printed before it would
    from srlab.training.metrics import PSNR, SSIM

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


def failed(entry: Entry, error: BaseException) -> Entry:
    """The entry marked with the first line of what went wrong, and the whole of it logged."""
    entry.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    log.warning("failed %s: %s", entry.path, error)
    return entry


def print_results_table(results: dict[str, dict[str, float]], scale: int, model: str) -> None:
    """Set x PSNR/SSIM, as the papers print them."""
    rows = [
        (name, str(r["images"]), f"{r['psnr']:.2f}", f"{r['ssim']:.4f}")
        for name, r in results.items()
    ]
    print_table(f"x{scale}", ("set", "images", "PSNR (dB)", "SSIM"), rows, caption=escape(model))


main = hydra_entry_point("eval", evaluate, USAGE, __doc__, EXAMPLES)


if __name__ == "__main__":
    main()
