"""Checkpoints written atomically next to their final path, so a kill never leaves half a file.

Lightning's own save goes through fsspec, which stages the file in the system temp dir and
then moves it: a copy, not a rename, whenever the run directory is on another filesystem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from srlab.utils.files import atomic_writer


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: str | Path, storage_options: Any = None
    ) -> None:
        with atomic_writer(path) as handle:
            torch.save(checkpoint, handle)
