"""Training end to end: the real `srlab.train` (its SRDataModule, DataLoader, workers, callbacks
and loggers) against a plain PyTorch loop that cuts its batches from the same cached LR/HR
pairs, same net, optimizer and scheduler, in the same process.

Both clocks read at the end of every step, from the end of step `warmup_steps` to the end of step
`warmup_steps + steps`: batch making (the loader's crops and flips, or the loop's), forward,
loss, backward, optimizer and scheduler, and on srlab's side everything around them, epoch
restarts included (the timed window spans several of the loader's epochs). Validation never
runs inside it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, open_dict

from srlab.data.datasets import TrainPatches

Batch = dict[str, torch.Tensor]


def e2e_config(train_cfg: DictConfig, run_dir: Path, warmup_steps: int, steps: int) -> DictConfig:
    """The training config as `srlab.train` runs it, data and loader included, with a StepTimer
    among its callbacks, no validation (FinalValidation dropped), written to `run_dir`."""
    cfg = copy.deepcopy(train_cfg)
    with open_dict(cfg):
        cfg.optimized_metric = train_cfg.optimized_metric
        cfg.trainer.max_steps = warmup_steps + steps
        cfg.trainer.val_check_interval = warmup_steps + steps + 1
        cfg.callbacks = cfg.get("callbacks") or {}
        cfg.callbacks.pop("final_validation", None)
        cfg.callbacks.step_timer = {
            "_target_": "srlab.speed.train_speed.StepTimer",
            "path": str(run_dir / "step_times.json"),
        }
        cfg.paths.output_dir = str(run_dir)
        cfg.ckpt_path = None
        wandb = (cfg.get("logger") or {}).get("wandb")
        if wandb:
            wandb.update(
                name=f"bench-e2e-{run_dir.name}",
                group=None,
                job_type="bench",
                tags=["bench"],
                save_dir=str(run_dir.parent),
            )
    return cfg


def plain_batches(patches: TrainPatches, batch_size: int, seed: int) -> Callable[[int], Batch]:
    """A plain loop's batches from the dataset's cached whole-image pairs: per sample a random
    image, an aligned random crop, a random flip/rotation (NumPy views), stacked, to float."""
    rng = np.random.default_rng(seed)
    lr_patch, s = patches.patch_size // patches.scale, patches.scale

    def crop_pair() -> tuple[np.ndarray, np.ndarray]:
        index = int(rng.integers(len(patches.hr_images)))
        hr, lr = patches.hr_images[index], patches.lr_images[index]
        top = int(rng.integers(lr.shape[0] - lr_patch + 1))
        left = int(rng.integers(lr.shape[1] - lr_patch + 1))
        lr = lr[top : top + lr_patch, left : left + lr_patch]
        hr = hr[top * s : (top + lr_patch) * s, left * s : (left + lr_patch) * s]
        turns, flip = int(rng.integers(4)), bool(rng.integers(2))
        if flip:
            lr, hr = lr[:, ::-1], hr[:, ::-1]
        return np.rot90(lr, turns), np.rot90(hr, turns)

    def batch(_step: int) -> Batch:
        pairs = [crop_pair() for _ in range(batch_size)]
        lr = torch.from_numpy(np.stack([p[0] for p in pairs]))
        hr = torch.from_numpy(np.stack([p[1] for p in pairs]))
        return {
            "lr": lr.permute(0, 3, 1, 2).float().div_(255.0),
            "hr": hr.permute(0, 3, 1, 2).float().div_(255.0),
        }

    return batch
