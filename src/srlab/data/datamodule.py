"""SRDataModule: HR folders in, (LR, HR) training patches and whole validation images out."""

from __future__ import annotations

import logging
import multiprocessing
from fnmatch import fnmatch
from pathlib import Path

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler, Sampler

from srlab.data.cache import load_images
from srlab.data.datasets import TrainPatches, ValImages, degrade_images
from srlab.data.degradation import Bicubic, Degradation
from srlab.data.io import list_images
from srlab.data.lr_partner import find_lr_partners, fit_lr
from srlab.models.blocks import check_positive
from srlab.utils.errors import SRLabError

log = logging.getLogger(__name__)


class ShardSampler(Sampler[int]):
    """Every rank takes indices rank::world, without the padding DistributedSampler adds.

    Padding would score some validation images twice and bias the mean PSNR.
    """

    def __init__(self, length: int, rank: int, world_size: int):
        self.indices = list(range(rank, length, world_size))

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def worker_context() -> str | None:
    """`fork` where there is one: inside a joblib/loky sweep job the default context is loky's,
    whose processes cannot start DataLoader workers (`'Process' object has no attribute 'env'`)."""
    return "fork" if "fork" in multiprocessing.get_all_start_methods() else None


def check_arguments(scale: int, patch_size: int, batch_size: int, repeat: int, cache: str) -> None:
    for key, value in (("patch_size", patch_size), ("batch_size", batch_size), ("repeat", repeat)):
        check_positive(f"data.{key}", value)
    if patch_size % scale:
        raise SRLabError(
            f"data.patch_size={patch_size} must be a multiple of scale={scale}; "
            f"use e.g. {patch_size - patch_size % scale}"
        )
    if cache not in ("memory", "disk"):
        raise SRLabError(f"data.cache={cache!r}: choose memory or disk")


def validation_folders(val_sets: dict[str, str] | None, val_dir: str | None) -> dict[str, Path]:
    """name -> folder: the named sets, then `val_dir` named after itself; at least one."""
    folders = {name: Path(folder) for name, folder in (val_sets or {}).items()}
    if val_dir:
        folders[Path(val_dir).name] = Path(val_dir)
    if not folders:
        raise SRLabError("no validation set: give data.val_dir=... or data.val_sets.<name>=...")
    return folders


class SRDataModule(L.LightningDataModule):
    """Random aligned HR/LR training patches and whole validation images, at one scale.

    LR training patches come from `train_lr_dir` (`{stem}x{scale}.png`) when that folder exists
    and the degradation's exact part is bicubic (what DIV2K's and srlab.prepare's LR folders
    hold), otherwise they are made by the degradation from the HR images, once (with
    `cache=disk`, kept under the degradation's name). A random degradation's noise is drawn per
    patch, or (blind) the LR is made from each batch on the training device
    (`on_after_batch_transfer`); validation images get the fixed LR of `degradation.degrade`.

    Args:
        scale: the SR factor; LR is HR / scale.
        degradation: how LR is made from HR (conf/degradation/); None: bicubic.
        train_dir: folder of HR training images.
        val_sets: more validation sets, name -> folder of HR images (logged as val/<name>/...).
        val_dir: a validation folder, named after itself.
        train_lr_dir: optional ready-made LR of the training images, `{stem}x{scale}.png`.
        train_files: only the training images matching these glob patterns.
        patch_size: HR pixels per side of a training patch (a multiple of the scale).
        batch_size: patches per step (per process under DDP).
        repeat: how many times each image is sampled per epoch.
        augment: random flips and 90-degree rotations (the same for HR and LR).
        num_workers: DataLoader worker processes (0: in the training process).
        pin_memory: page-locked batches, for faster host-to-GPU copies.
        persistent_workers: keep workers alive between epochs.
        cache: `memory` (decoded arrays) or `disk` (.npy files memory-mapped by every worker).
        cache_dir: where `cache=disk` keeps its files.
        skip_bad_images: warn about and skip unreadable images instead of failing.
        download: fetch DIV2K into `download_root` first (rank 0).
        download_root: where `download` puts DIV2K.
        missing_hint: what the error for a missing folder tells the user to do.
    """

    def __init__(
        self,
        scale: int,
        train_dir: str,
        val_sets: dict[str, str] | None = None,
        val_dir: str | None = None,
        train_lr_dir: str | None = None,
        train_files: list[str] | None = None,
        patch_size: int = 96,
        batch_size: int = 16,
        repeat: int = 1,
        augment: bool = True,
        num_workers: int = 2,
        pin_memory: bool = False,
        persistent_workers: bool = True,
        cache: str = "memory",
        cache_dir: str | None = None,
        skip_bad_images: bool = False,
        download: bool = False,
        download_root: str | None = None,
        missing_hint: str = "set data.train_dir=... to a folder of HR images",
        degradation: Degradation | None = None,
    ):
        super().__init__()
        check_arguments(scale, patch_size, batch_size, repeat, cache)
        self.scale = scale
        self.degradation = degradation or Bicubic()
        self.train_dir = Path(train_dir)
        self.train_lr_dir = Path(train_lr_dir) if train_lr_dir else None
        self.train_files = list(train_files) if train_files else None
        self.val_sets = validation_folders(val_sets, val_dir)
        self.patch_size = patch_size
        self.batch_size = batch_size
        self.repeat = repeat
        self.augment = augment
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.persistent_workers = persistent_workers and num_workers > 0
        self.cache_dir = Path(cache_dir) if (cache == "disk" and cache_dir) else None
        self.skip_bad_images = skip_bad_images
        self.missing_hint = missing_hint
        self.download = download
        self.download_root = Path(download_root) if download_root else None
        self.train_set: TrainPatches | None = None
        self.batch_generator: torch.Generator | None = None
        self.val_datasets: dict[str, ValImages] = {}
        if not download:  # otherwise prepare_data fetches them first
            self.check_folders()

    def check_folders(self) -> None:
        """Fail before training starts, saying where the data is expected and how to get it."""
        for what, folder in [("training HR", self.train_dir)] + [
            (f"validation set {name}", path) for name, path in self.val_sets.items()
        ]:
            if not folder.is_dir():
                raise SRLabError(f"{what} images not found: expected {folder}; {self.missing_hint}")

    def prepare_data(self) -> None:
        """With `download`, fetch DIV2K HR (and the official LR at this scale); rank 0 only."""
        if not self.download:
            return
        from srlab.data.download import LR_SCALES, download_div2k

        lr_parts = ("train_lr",) if self.scale in LR_SCALES else ()
        download_div2k(
            self.download_root,
            scales=(self.scale,) if lr_parts else (),
            parts=("train_hr", "valid_hr", *lr_parts),
        )

    def setup(self, stage: str | None = None) -> None:
        if self.download:
            self.check_folders()
        if stage in ("fit", None) and self.train_set is None:
            self.train_set = self.build_train_set()
        if not self.val_datasets:
            for name, folder in self.val_sets.items():
                images = load_images(list_images(folder, f"validation set {name}"), name)
                self.val_datasets[name] = ValImages(images, self.scale, self.degradation)

    def train_image_files(self) -> list[Path]:
        files = list_images(self.train_dir, "training HR")
        if self.train_files:
            files = [f for f in files if any(fnmatch(f.name, p) for p in self.train_files)]
            if not files:
                raise SRLabError(
                    f"data.train_files={self.train_files} matches no image in {self.train_dir}"
                )
        return files

    def build_train_set(self) -> TrainPatches:
        cache = self.cache_dir / "train" if self.cache_dir else None
        hr = load_images(self.train_image_files(), "training HR", cache, self.skip_bad_images)
        hr = self.drop_small(hr)
        names = sorted(hr)
        if self.uses_train_lr_dir():
            lr = self.load_lr(hr)
            lr_images = [lr[n] for n in names]
        else:
            cache = self.cache_dir / f"train_lr_x{self.scale}_made" if self.cache_dir else None
            lr_images = degrade_images([hr[n] for n in names], self.scale, cache, self.degradation)
        return TrainPatches(
            [hr[n] for n in names],
            self.scale,
            self.patch_size,
            self.repeat,
            self.augment,
            lr_images,
            self.degradation,
        )

    def uses_train_lr_dir(self) -> bool:
        """Whether the LR comes from `train_lr_dir`: it exists, and holds what the degradation's
        exact part makes (bicubic: an LR folder says nothing of how it was made)."""
        if not self.train_lr_dir:
            return False
        if not self.train_lr_dir.is_dir():
            log.info("no LR folder at %s: degrading the HR images once", self.train_lr_dir)
            return False
        if self.degradation.exact_name != Bicubic.name:
            log.warning(
                "not reading data.train_lr_dir=%s (bicubic LR) for degradation %s: degrading the "
                "HR images once instead (data.cache=disk keeps them)",
                self.train_lr_dir,
                self.degradation.name,
            )
            return False
        return True

    def drop_small(self, images: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Skip images smaller than the patch, with a warning; an error if none is left."""
        small = [n for n, im in images.items() if min(im.shape[:2]) < self.patch_size]
        for name in small:
            log.warning("skipping %s: smaller than data.patch_size=%d", name, self.patch_size)
        kept = {n: im for n, im in images.items() if n not in small}
        if not kept:
            raise SRLabError(
                f"every training image in {self.train_dir} is smaller than "
                f"data.patch_size={self.patch_size}; lower the patch size"
            )
        return kept

    def load_lr(self, hr: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Precomputed LR partners (`{stem}x{scale}.png`); missing or mis-sized ones are errors."""
        fix = "regenerate it with python -m srlab.prepare or remove data.train_lr_dir"
        files = find_lr_partners(list(hr), self.train_lr_dir, self.scale, "the training set", fix)
        cache = self.cache_dir / f"train_lr_x{self.scale}" if self.cache_dir else None
        lr = load_images(list(files.values()), "training LR", cache)
        return {
            stem: fit_lr(lr[path.stem], hr[stem], self.scale, path) for stem, path in files.items()
        }

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        """Training batches of a degradation made on batches (blind) get their LR here, on the
        device that trains."""
        if self.trainer is not None and self.trainer.training:
            return self.degrade_batch(batch)
        return batch

    def degrade_batch(self, batch: dict) -> dict:
        """The batch with the LR of its HR, when the degradation is made on batches (else as it
        is): random, from a generator seeded by the run's seed and the rank."""
        if not self.degradation.on_batches:
            return batch
        if self.batch_generator is None:
            rank = self.trainer.global_rank if self.trainer is not None else 0
            self.batch_generator = torch.Generator().manual_seed(torch.initial_seed() + rank)
        lr = self.degradation.degrade_batch(batch["hr"], self.scale, self.batch_generator)
        return {**batch, "lr": lr}

    def train_dataloader(self) -> DataLoader:
        sampler = None
        if self.world_size > 1:
            sampler = DistributedSampler(
                self.train_set, self.trainer.world_size, self.trainer.global_rank, shuffle=True
            )
        return DataLoader(
            self.train_set,
            batch_size=self.batch_size,
            shuffle=sampler is None,
            sampler=sampler,
            num_workers=self.num_workers,
            pin_memory=self.pin_memory,
            persistent_workers=self.persistent_workers,
            multiprocessing_context=worker_context() if self.num_workers else None,
            # Full batches only, unless the whole epoch is smaller than one batch.
            drop_last=len(self.train_set) >= self.batch_size * self.world_size,
        )

    def val_dataloader(self) -> list[DataLoader]:
        rank = self.trainer.global_rank if self.trainer is not None else 0
        return [
            DataLoader(
                dataset, batch_size=1, sampler=ShardSampler(len(dataset), rank, self.world_size)
            )
            for dataset in self.val_datasets.values()
        ]

    @property
    def world_size(self) -> int:
        return self.trainer.world_size if self.trainer is not None else 1

    @property
    def val_names(self) -> list[str]:
        return list(self.val_sets)
