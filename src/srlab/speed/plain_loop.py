"""The yardstick for `srlab.train` end to end: a plain PyTorch loop that shares none of srlab's
training code. srlab only reads the images and degrades them once, before the clock starts;
the net is the work both sides do, built from the same model config by Hydra. Everything timed
is this file's: random aligned crops by NumPy slicing, D4 by flips and transposes, the tensor
conversion, F.l1_loss, Adam.

    python -m srlab.speed.plain_loop job.json   # job: see `Job`; writes job.out (step clock)
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from hydra.utils import instantiate


@dataclass
class Job:
    model: dict  # a resolved model config (its `_target_`, built with `_partial_` off)
    images: list[str]  # HR training images
    scale: int
    patch_size: int  # HR pixels
    batch_size: int
    steps: int  # every step's end is clocked
    lr: float
    betas: tuple[float, float]
    seed: int
    channels_last: bool  # NHWC net and input, as srlab's module.channels_last
    out: str  # JSON: {"step_end_s": [...]}


def read_pairs(job: Job) -> list[tuple[np.ndarray, np.ndarray]]:
    """(HR, LR) uint8 HWC pairs: srlab's reader and MATLAB bicubic, once, outside the clock."""
    from srlab.data.degradation import bicubic_downscale
    from srlab.data.io import mod_crop, read_image

    hrs = [mod_crop(read_image(path), job.scale) for path in job.images]
    return [(hr, bicubic_downscale(hr, job.scale)) for hr in hrs]


def batches(pairs: list[tuple[np.ndarray, np.ndarray]], job: Job, rng: np.random.Generator):
    """Endless (LR, HR) float batches: random image, aligned crop, random D4 element."""
    s, lr_patch = job.scale, job.patch_size // job.scale
    while True:
        lrs, hrs = [], []
        for index in rng.integers(len(pairs), size=job.batch_size):
            hr, lr = pairs[index]
            top = rng.integers(lr.shape[0] - lr_patch + 1)
            left = rng.integers(lr.shape[1] - lr_patch + 1)
            lr = lr[top : top + lr_patch, left : left + lr_patch]
            hr = hr[top * s : (top + lr_patch) * s, left * s : (left + lr_patch) * s]
            if rng.random() < 0.5:
                lr, hr = lr[::-1], hr[::-1]
            if rng.random() < 0.5:
                lr, hr = lr[:, ::-1], hr[:, ::-1]
            if rng.random() < 0.5:
                lr, hr = lr.transpose(1, 0, 2), hr.transpose(1, 0, 2)
            lrs.append(lr)
            hrs.append(hr)
        yield tuple(
            torch.from_numpy(np.stack(side)).permute(0, 3, 1, 2).float().div_(255)
            for side in (lrs, hrs)
        )


def train(job: Job) -> list[float]:
    pairs = read_pairs(job)
    torch.manual_seed(job.seed)
    net = instantiate({**job.model, "_partial_": False}).train()
    memory_format = torch.channels_last if job.channels_last else torch.contiguous_format
    net = net.to(memory_format=memory_format)
    optimizer = torch.optim.Adam(net.parameters(), lr=job.lr, betas=tuple(job.betas))
    data = batches(pairs, job, np.random.default_rng(job.seed))
    step_end_s = []
    for _ in range(job.steps):
        lr, hr = next(data)
        loss = F.l1_loss(net(lr.contiguous(memory_format=memory_format)), hr)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step_end_s.append(time.perf_counter())
    return step_end_s


def main(argv: list[str]) -> None:
    job = Job(**json.loads(Path(argv[0]).read_text()))
    Path(job.out).write_text(json.dumps({"step_end_s": train(job)}))


if __name__ == "__main__":
    main(sys.argv[1:])
