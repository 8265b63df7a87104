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

from collections.abc import Callable

import numpy as np
import torch

from srlab.data.datasets import TrainPatches

Batch = dict[str, torch.Tensor]


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
