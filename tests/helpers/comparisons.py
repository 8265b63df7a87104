"""What `srlab.compare` reads, made by hand, and what it writes, read back: run directories as a
sweep writes them (.hydra/ and summary.json), a sweep of seeds, comparison.csv and the points of
its PSNR figure."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from matplotlib.figure import Figure
from omegaconf import OmegaConf

PSNR, SSIM = "val/Set5/psnr", "val/Set5/ssim"
DEFAULTS = {"seed": 0, "model": {"n_resblocks": 16}, "module": {"optimizer": {"lr": 1e-4}}}
# n_resblocks -> one (PSNR, SSIM, wall_s) per seed; means and stds exact in binary floats
SEEDS = {
    "2": [(30.0, 0.5, 10.0), (31.0, 0.75, 12.0), (32.0, 1.0, 14.0)],
    "8": [(32.0, 0.5, 20.0), (34.0, 0.5, 22.0), (36.0, 0.5, 30.0)],
}


def summary_of(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def make_run(
    root: Path, name: str, overrides: list[str], summary: dict | None, config: dict | None = None
) -> Path:
    """A run directory written by hand as Hydra writes one: .hydra/config.yaml (a few defaults,
    `config`, then the overrides applied), .hydra/overrides.yaml, .hydra/hydra.yaml (the group
    choices and the overrides) and maybe summary.json."""
    run = root / name
    (run / ".hydra").mkdir(parents=True)
    composed = OmegaConf.merge(DEFAULTS, config or {}, OmegaConf.from_dotlist(overrides))
    OmegaConf.save(composed, run / ".hydra" / "config.yaml")
    (run / ".hydra" / "overrides.yaml").write_text("".join(f"- {o}\n" for o in overrides))
    hydra = {"runtime": {"choices": {"model": "resnet_sr"}}, "overrides": {"task": overrides}}
    OmegaConf.save({"hydra": hydra}, run / ".hydra" / "hydra.yaml")
    if summary is not None:
        (run / "summary.json").write_text(json.dumps(summary))
    return run


def completed_summary(psnr: float, ssim: float, wall_s: float, params: int) -> dict:
    """summary.json of a completed 4-step run validated at steps 2 and 4."""
    metrics = {PSNR: psnr, SSIM: ssim, "val/Set5/bicubic_psnr": 28.0}
    history = [{"step": 2, PSNR: psnr - 1.0}, {"step": 4, PSNR: psnr}]
    return {
        "status": "completed",
        "metrics": metrics,
        "params": params,
        "steps": 4,
        "wall_s": wall_s,
        "history": history,
    }


def seed_sweep(root: Path, seeds: dict[str, list[tuple]]) -> Path:
    """A multirun's job folders, as `model.n_resblocks=... seed=0,1,2` writes them."""
    job = 0
    for blocks, values in seeds.items():
        for seed, (psnr, ssim, wall_s) in enumerate(values):
            overrides = ["experiment=quick", f"model.n_resblocks={blocks}", f"seed={seed}"]
            result = completed_summary(psnr, ssim, wall_s, params=1000 * int(blocks))
            make_run(root, str(job), overrides, result)
            job += 1
    return root


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def drawn_points(figure: Figure, panel: int, val_set: str) -> list[tuple[float, float]]:
    """The (x, PSNR) points one panel of psnr_figure shows for a validation set."""
    (points,) = [c for c in figure.axes[panel].containers if c.get_label() == val_set]
    return sorted(tuple(point) for point in points.lines[0].get_xydata())


LONG_DIR = "/home/someone/projects/super-resolution/datasets/DIV2K"


def runs_of_many_settings(root: Path, count: int = 19) -> Path:
    """`count` single runs in one folder (logs/train/runs after a few weeks), 9 settings that
    differ between them, one a long path."""
    for index in range(count):
        overrides = [
            f"experiment={'quick' if index % 2 else 'edsr_baseline_x2'}",
            f"model.n_feats={8 + index}",
            f"data.train_dir={LONG_DIR}/DIV2K_train_HR_{index % 3}",
            f"trainer.max_steps={1000 * (index % 4 + 1)}",
            f"module.optimizer.lr={index % 5 + 1}e-4",
            f"model.n_resblocks={index % 6}",
            f"data.patch_size={48 + 16 * (index % 3)}",
            f"data.batch_size={8 * (index % 3 + 1)}",
            f"trainer.val_check_interval={100 * (index % 2 + 1)}",
        ]
        summary = completed_summary(30 + index / 10, 0.9, 10.0 + index, 1000 * index)
        make_run(root, f"2026-12-06_20-{index:02d}-00", overrides, summary)
    return root
