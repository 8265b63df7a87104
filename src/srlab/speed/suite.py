"""Every part of `python -m srlab.bench` (srlab/bench.py, its entry point) and results.json.

Speeds are measured side by side (Lightning and the plain loop alternate), so that their ratios
hold on a busy machine even when the absolute numbers do not. What each figure includes:
`results["setup"]` and the docstrings of the other modules here.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from srlab.data.io import mod_crop
from srlab.ops.cost import count_parameters
from srlab.ops.pixels import to_float
from srlab.speed.common import AUTOCAST_DTYPES, machine_info, spread
from srlab.speed.data_speed import draw_batches, loader_samples_per_s
from srlab.speed.e2e_speed import plain_loop_command, srlab_train_command, timed_process
from srlab.speed.export_speed import onnx_vs_torch
from srlab.speed.inference_speed import forwards, peak_memory_method, time_inference
from srlab.speed.resize_speed import (
    load_sets,
    time_factor,
    time_resizes,
    time_resizes_with_threads,
)
from srlab.speed.results import inference_key, markdown
from srlab.speed.train_speed import (
    lightning_config,
    lightning_steps_per_s,
    plain_steps_per_s,
)
from srlab.utils.device import pick_device
from srlab.utils.errors import SRLabError
from srlab.utils.files import write_json
from srlab.utils.hydra import compose_config, instantiate

log = logging.getLogger("srlab")  # not "__main__" under python -m
Samples = dict[str, list[float]]
UNITS = {
    "train_step_ratio_vs_plain": "Lightning / plain",
    "train_steps_per_s_lightning": "steps/s",
    "train_steps_per_s_plain": "steps/s",
    "train_e2e_ratio_vs_plain": "srlab.train / plain",
    "train_e2e_steps_per_s_srlab": "steps/s",
    "train_e2e_steps_per_s_plain": "steps/s",
    "train_e2e_first_step_s_srlab": "s from launch",
    "train_e2e_first_step_s_plain": "s from launch",
    "lightning_overhead_ms_per_step": "ms",
    "data_over_model": "loader / model",
    "loader_samples_per_s": "samples/s",
    "model_samples_per_s": "samples/s",
    "onnx_over_torch_images_per_s": "onnxruntime / PyTorch",
    "onnx_images_per_s": "images/s",
    "torch_images_per_s": "images/s",
    "onnx_max_abs_difference": "on [0, 1]",
    "imresize_torch_s": "s",
    "imresize_numpy_s": "s",
}


def unit_of(figure: str) -> str:
    if figure in UNITS:
        return UNITS[figure]
    if figure.startswith("imresize_speedup"):
        return "NumPy time / torch time"
    return "MP/s" if figure.endswith("_mp_per_s") else "MiB"


def command_line() -> str:
    """The command that reproduces this bench (its overrides, as given)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return "srlab.bench.bench(cfg), composed in-process"
    overrides = " ".join(f'"{o}"' if "[" in o else o for o in HydraConfig.get().overrides.task)
    return f"python -m srlab.bench {overrides}".strip()


def train_overrides(cfg: DictConfig) -> list[str]:
    return [*cfg.train.overrides, *cfg.train.get("extra_overrides", [])]


def bench_training(cfg: DictConfig, train_cfg: DictConfig, out_dir: Path) -> Samples:
    """Per repeat: Lightning and the plain loop (in alternating order), then the loader alone."""
    warmup, steps = cfg.train.warmup_steps, cfg.train.steps
    datamodule = instantiate(train_cfg.data)
    datamodule.setup("fit")
    loader = datamodule.train_dataloader()
    batches = [
        datamodule.degrade_batch(b) for b in draw_batches(loader, cfg.train.distinct_batches)
    ]
    batches_path = out_dir / "batches.pt"
    torch.save(batches, batches_path)
    batch_size = len(batches[0]["hr"])
    samples: Samples = defaultdict(list)
    try:
        for repeat in range(cfg.repeats):
            run_dir = out_dir / "train_runs" / str(repeat)
            run_cfg = lightning_config(train_cfg, run_dir, batches_path, len(loader), warmup, steps)
            loops = {
                "lightning": partial(lightning_steps_per_s, run_cfg, warmup, steps),
                "plain": partial(plain_steps_per_s, train_cfg, cycle(batches), warmup, steps),
            }
            # Lightning first in even repeats, the plain loop first in odd ones: a drift in the
            # machine's load favours neither.
            order = list(loops) if repeat % 2 == 0 else list(reversed(loops))
            speeds = {}
            for name in order:
                log.info("training speed, repeat %d/%d: %s", repeat + 1, cfg.repeats, name)
                speeds[name] = loops[name]()
            lightning, plain = speeds["lightning"], speeds["plain"]
            log.info("loader speed, repeat %d/%d", repeat + 1, cfg.repeats)
            delivered = loader_samples_per_s(
                loader, cfg.loader.warmup_batches, cfg.loader.batches, datamodule.degrade_batch
            )
            samples["train_step_ratio_vs_plain"].append(lightning / plain)
            samples["train_steps_per_s_lightning"].append(lightning)
            samples["train_steps_per_s_plain"].append(plain)
            samples["lightning_overhead_ms_per_step"].append(1000 * (1 / lightning - 1 / plain))
            samples["data_over_model"].append(delivered / (plain * batch_size))
            samples["loader_samples_per_s"].append(delivered)
            samples["model_samples_per_s"].append(plain * batch_size)
    finally:
        batches_path.unlink(missing_ok=True)
        del loader  # stops the persistent workers
    return samples


def cycle(batches: list[dict[str, torch.Tensor]]) -> Callable[[int], dict[str, torch.Tensor]]:
    return lambda step: batches[step % len(batches)]


def bench_e2e(cfg: DictConfig, train_cfg: DictConfig, out_dir: Path) -> Samples:
    """Per repeat, in alternating order, each its own process: `python -m srlab.train` as a user
    runs it and the plain loop (speed/plain_loop.py) on the same images and net."""
    warmup, steps = cfg.e2e.warmup_steps, cfg.e2e.steps
    images = instantiate(train_cfg.data).train_image_files()
    samples: Samples = defaultdict(list, train_e2e_ratio_vs_plain=[])  # the ratio first
    for repeat in range(cfg.repeats):
        run_dir = out_dir / "e2e_runs" / str(repeat)
        commands = {
            "srlab": srlab_train_command(
                train_overrides(cfg), train_cfg, run_dir / "srlab", warmup + steps
            ),
            "plain": plain_loop_command(train_cfg, images, run_dir / "plain", warmup + steps),
        }
        order = list(commands) if repeat % 2 == 0 else list(reversed(commands))
        speeds = {}
        for name in order:
            log.info("end-to-end training speed, repeat %d/%d: %s", repeat + 1, cfg.repeats, name)
            speeds[name], first_step_s = timed_process(
                commands[name], run_dir / name, warmup, steps
            )
            samples[f"train_e2e_first_step_s_{name}"].append(first_step_s)
            samples[f"train_e2e_steps_per_s_{name}"].append(speeds[name])
        samples["train_e2e_ratio_vs_plain"].append(speeds["srlab"] / speeds["plain"])
    return samples


def bench_resize(cfg: DictConfig) -> tuple[Samples, bool, str]:
    """Per repeat: every image at every scale, torch and NumPy alternating; also with torch on
    one thread. Returns the samples, whether every output was identical, and what was used."""
    images = load_sets(list(cfg.resize.sets), [str(d) for d in cfg.resize.data_dirs])
    if not images:
        raise SRLabError(
            f"no image for the resize benchmark: resize.sets={list(cfg.resize.sets)} found under "
            f"none of resize.data_dirs={list(cfg.resize.data_dirs)}"
        )
    scales = list(cfg.resize.scales)
    time_resizes(dict(list(images.items())[:1]), scales)  # warm-up: first calls, allocations
    samples: Samples = defaultdict(list)
    identical = True
    for repeat in range(cfg.repeats):
        log.info("imresize speed, repeat %d/%d", repeat + 1, cfg.repeats)
        timing = time_resizes(images, scales)
        single = time_resizes_with_threads(images, scales, threads=1)
        identical &= timing.identical and single.identical
        samples["imresize_speedup_vs_numpy"].append(timing.numpy_s / timing.torch_s)
        samples["imresize_speedup_vs_numpy_1_thread"].append(single.numpy_s / single.torch_s)
        samples["imresize_torch_s"].append(timing.torch_s)
        samples["imresize_numpy_s"].append(timing.numpy_s)
        others = [(f"x{scale}", time_resizes(images, [scale])) for scale in cfg.resize.other_scales]
        others += [(f"{f:g}", time_factor(images, f)) for f in cfg.resize.factors]
        for name, timing in others:  # each its own figure, each with the same target
            identical &= timing.identical
            samples[f"imresize_speedup_vs_numpy_{name}"].append(timing.numpy_s / timing.torch_s)
    megapixels = sum(image.shape[0] * image.shape[1] for image in images.values()) / 1e6
    sets = sorted({name.split("/")[0] for name in images})
    used = f"{', '.join(sets)}: {len(images)} images, {megapixels:.2f} MP"
    return samples, identical, used


def bench_inference(cfg: DictConfig, train_cfg: DictConfig) -> Samples:
    """Per scale and LR size: one untimed pass of each kind, then `repeats` timed ones."""
    device = pick_device(str(train_cfg.trainer.accelerator))
    autocast_dtype = AUTOCAST_DTYPES.get(str(train_cfg.trainer.precision))
    generator = torch.Generator().manual_seed(0)
    samples: Samples = defaultdict(list)
    for scale in cfg.inference.scales:
        net = instantiate(train_cfg.model, scale=scale)().to(device).eval()
        passes = forwards(
            net, scale, cfg.inference.tile, cfg.inference.tile_overlap, autocast_dtype
        )
        for size in cfg.inference.sizes:
            log.info("inference speed: x%d, %dx%d LR", scale, size, size)
            lr = torch.rand(1, 3, size, size, generator=generator).to(device)
            for forward in passes.values():
                forward(lr)
            for _ in range(cfg.repeats):
                for kind, forward in passes.items():
                    timing = time_inference(forward, lr, scale, device)
                    samples[inference_key(scale, size, f"{kind}_mp_per_s")].append(timing.mp_per_s)
                    if timing.peak_mib is not None:  # None: no way to measure it here
                        peak_key = inference_key(scale, size, f"{kind}_peak_mib")
                        samples[peak_key].append(timing.peak_mib)
    return samples


def bench_export(cfg: DictConfig, train_cfg: DictConfig) -> Samples:
    """onnxruntime against PyTorch on the CPU: the train config's net (random weights) exported
    to ONNX, over Set5's LR images (the bundled set, mod-cropped, the train config's
    degradation: MATLAB bicubic by default)."""
    net = instantiate(train_cfg.model)()
    scale = int(net.scale)
    degradation = instantiate(train_cfg.degradation)
    images = [
        to_float(degradation.degrade(mod_crop(hr, scale), scale, name))[None]
        for name, hr in load_sets(["Set5"], []).items()
    ]
    log.info("ONNX export speed: %d Set5 images, x%d", len(images), scale)
    return onnx_vs_torch(net, images, cfg.repeats)


def setup_notes(
    cfg: DictConfig, train_cfg: DictConfig, resize_used: str, identical: bool
) -> dict[str, str]:
    """One line per benchmark: exactly what was run and what the clock covered."""
    model, data, trainer = train_cfg.model, train_cfg.data, train_cfg.trainer
    device = pick_device(str(trainer.accelerator))
    built = instantiate(model)()
    settings = ", ".join(
        f"{key} {value}" for key, value in model.items() if key.startswith("n_") and value
    )
    net = f"{type(built).__name__} x{model.scale} ({settings}; {count_parameters(built):,} params)"
    return {
        "train": (
            f"`{' '.join(train_overrides(cfg))}`: {net}, patch {data.patch_size}, "
            f"batch {data.batch_size}, {train_cfg.module.optimizer._target_.split('.')[-1]}, "
            f"precision {trainer.precision}, {device}; srlab.train.train (callbacks "
            f"{', '.join(train_cfg.get('callbacks') or {})}; loggers "
            f"{', '.join(train_cfg.get('logger') or {}) or 'none'}) vs a plain loop, both on "
            f"{cfg.train.distinct_batches} pre-made batches; clock from the end of step "
            f"{cfg.train.warmup_steps} to the end of step "
            f"{cfg.train.warmup_steps + cfg.train.steps} (fetch, forward, loss, backward, "
            "optimizer and scheduler steps, and Lightning's hooks, logging, callbacks and "
            "progress bar); no validation"
        ),
        "e2e": (
            f"`python -m srlab.train {' '.join(train_overrides(cfg))}` (its SRDataModule on "
            f"{data.get('train_dir')}, num_workers={data.num_workers}, callbacks, loggers and "
            "progress bar) vs the plain loop of srlab/speed/plain_loop.py (its own crops, D4, "
            "tensors, F.l1_loss and Adam; srlab only reads and degrades the images before the "
            f"clock), same net, batch, patch and memory format (channels_last "
            f"{bool(train_cfg.module.get('channels_last'))}), each its own process, "
            "alternating; clock from the end of step "
            f"{cfg.e2e.warmup_steps} to the end of step {cfg.e2e.warmup_steps + cfg.e2e.steps} "
            "(epoch restarts and logging included); no validation"
        ),
        "loader": (
            f"SRDataModule ({data.get('train_dir')}), num_workers={data.num_workers}, "
            f"{cfg.loader.batches} batches timed after {cfg.loader.warmup_batches}, the main "
            "process only taking them (and, for a degradation made on batches, making their LR "
            f"on {device}); degradation {instantiate(train_cfg.degradation).name}; "
            "data_over_model divides by the plain loop's samples/s"
        ),
        "resize": (
            f"{resize_used}, mod-crop then imresize by 1/{list(cfg.resize.scales)} "
            f"(and alone by 1/{list(cfg.resize.other_scales)}; whole images by "
            f"{list(cfg.resize.factors)}); "
            f"outputs identical: {'yes' if identical else '**NO**'}"
        ),
        "export": (
            f"{net} (random weights) exported to ONNX (dynamo) and run by onnxruntime against "
            "PyTorch (inference_mode), both on the CPU with torch's threads, over Set5's LR "
            "images (whole, batch 1), alternating; difference: largest over every output value"
        ),
        "inference": (
            f"{net} (random weights), batch 1, eval, inference_mode, {device}; "
            f"peak memory: {peak_memory_method(device) or 'not measured here'}"
        ),
    }


PARTS = ("resize", "train", "e2e", "export", "inference")


def check_parts(cfg: DictConfig) -> list[str]:
    parts = list(cfg.get("parts") or PARTS)
    unknown = [part for part in parts if part not in PARTS]
    if unknown:
        raise SRLabError(f"bench parts={parts}: {unknown} unknown; choose from {list(PARTS)}")
    return parts


def bench(cfg: DictConfig) -> dict[str, Any]:
    """Measure everything, write results.json, print the Markdown tables, return the results."""
    if cfg.get("torch_threads"):
        torch.set_num_threads(int(cfg.torch_threads))
    output = Path(cfg.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.time()
    machine = machine_info()
    # The Lightning runs write under the bench's directory (lightning_config: one per repeat).
    train_cfg = compose_config(
        "train", [*train_overrides(cfg), f"paths.output_dir={output.parent / 'train_runs'}"]
    )

    parts = check_parts(cfg)
    samples: Samples = {}
    identical, resize_used = None, ""
    # The resize first: after the training runs, in the same process, the same resizes took
    # torch 2-2.5x longer and NumPy no longer (x3 26 ms vs 13 ms, Set5 + Set14; cause not found).
    # A process that resizes (prepare, eval, a DataModule's setup) does so before any training.
    if "resize" in parts:
        resize_samples, identical, resize_used = bench_resize(cfg)
        samples.update(resize_samples)
    if "train" in parts:
        samples.update(bench_training(cfg, train_cfg, output.parent))
    if "e2e" in parts:
        samples.update(bench_e2e(cfg, train_cfg, output.parent))
    if "export" in parts:
        samples.update(bench_export(cfg, train_cfg))
    if "inference" in parts:
        samples.update(bench_inference(cfg, train_cfg))

    machine["load_average_1min_end"] = machine_info()["load_average_1min"]
    notes = setup_notes(cfg, train_cfg, resize_used, bool(identical))
    results = {
        "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started)),
        "wall_s": round(time.time() - started, 1),
        "output": str(output),
        "command": command_line(),
        "machine": machine,
        "setup": {
            name: notes[name]
            for name in notes
            if name in parts or name == "loader" and "train" in parts
        },
        "checks": {"imresize_identical": identical},
        "figures": {name: {**spread(v), "unit": unit_of(name)} for name, v in samples.items()},
        "config": {
            **OmegaConf.to_container(cfg, resolve=True),
            "train_config": OmegaConf.to_container(train_cfg, resolve=True),
        },
    }
    write_json(output, results)
    print(markdown(results), flush=True)
    log.info("results written to %s", output)
    return results
