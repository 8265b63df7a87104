"""TensorBoard: local event files, a folder per sweep and in it a folder per run; the config in
the HParams tab."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
from lightning.fabric.utilities.logger import _convert_params, _flatten_dict
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger
from lightning.pytorch.utilities import rank_zero_only

from srlab.training.loggers import image_name, require
from srlab.training.summary import RunSummary, how_it_ended
from srlab.utils.hydra import NOISY_OVERRIDE_PREFIXES

# Config keys that say where a run writes, not what it is (left out of TensorBoard's HParams).
NOT_SETTINGS = (*NOISY_OVERRIDE_PREFIXES, "trainer.default_root_dir")


def run_folder(parent: Path, name: str) -> str:
    """`name` as a folder of `parent` (no `/`, at most 200 characters), `-2`, `-3` ... appended
    when a run of that name is there already: two runs never share event files."""
    base = re.sub(r"[/\\]", "_", name)[:200] or "default"
    folder, count = base, 1
    while (parent / folder).exists():
        count += 1
        folder = f"{base}-{count}"
    return folder


class TensorBoardLogger(LightningTensorBoardLogger):
    """Lightning's TensorBoardLogger, a folder per sweep in `save_dir` (single runs: `runs/`) and
    in it a folder per run, named by what the run sets; the config goes to the HParams tab.

    Args:
        save_dir: the folder of every run (what `python -m srlab.dashboard logger=tensorboard`
            shows).
        group: the sweep (its directory's name); None: a single run.
        name: the run's name (what its sweep varies).
    """

    def __init__(
        self, save_dir: str = "logs/tensorboard", group: str | None = None, name: str = "default"
    ):
        require("tensorboard", "tensorboard")
        folder = group or "runs"
        super().__init__(
            save_dir=save_dir,
            name=folder,
            version=run_folder(Path(save_dir) / folder, name),
            default_hp_metric=False,  # no `hp_metric` placeholder: the table shows real metrics
        )

    def log_sr_images(
        self, key: str, images: list[np.ndarray], captions: list[str], step: int
    ) -> None:
        """uint8 HWC images, each under its own tag: `<key>/<set>/<image>`."""
        for image, caption in zip(images, captions, strict=True):
            tag = f"{key}/{image_name(caption)}"
            self.experiment.add_image(tag, image, step, dataformats="HWC")

    @rank_zero_only
    def log_run_end(self, summary: RunSummary) -> None:
        """How the run ended, as text (TensorBoard's Text tab) at its last step."""
        self.experiment.add_text("run/ended", how_it_ended(summary), summary.steps)

    @rank_zero_only
    def log_hyperparams(
        self, params: dict[str, Any], metrics: dict[str, Any] | None = None, step: int | None = None
    ) -> None:
        """The config, flattened (`model/n_resblocks`), into the HParams tab."""
        from torch.utils.tensorboard.summary import hparams

        super().log_hyperparams(params)  # kept for hparams.yaml
        if metrics:
            self.log_metrics(metrics, step)
        flat = self._sanitize_params(_flatten_dict(_convert_params(params)))
        # Not where a run writes (paths, callbacks' files, loggers): those differ in every run
        # and would crowd out the settings of a sweep, which TensorBoard shows first.
        flat = {
            key: value
            for key, value in flat.items()
            if not key.replace("/", ".").startswith(NOT_SETTINGS)
        }
        # The session's start only, no experiment summary: TensorBoard then builds the table
        # itself from every run in the log dir (the hparams that differ first) against each run's
        # last value of every scalar (val/Set5/psnr ...), across sweeps whose configs differ.
        _, session_start, _ = hparams(flat, {})
        self.experiment._get_file_writer().add_summary(session_start, step)

    @rank_zero_only
    def finalize(self, status: str) -> None:
        from torch.utils.tensorboard.summary import hparams

        if self._experiment is not None and status == "success":  # the HParams table's status
            _, _, session_end = hparams({}, {})  # (a success; else it stays unknown)
            self._experiment._get_file_writer().add_summary(session_end)
        super().finalize(status)
