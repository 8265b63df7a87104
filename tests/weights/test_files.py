"""weights/files.py: reading weight files without running what they hold."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from srlab.utils.errors import SRLabError
from srlab.weights.files import read_checkpoint


class RunsACommand:
    """Unpickling this runs a shell command: what a hostile checkpoint holds."""

    def __init__(self, command: str):
        self.command = command

    def __reduce__(self):
        return os.system, (self.command,)


def test_a_hostile_checkpoint_is_refused_naming_what_it_would_run(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    path = tmp_path / "hostile.ckpt"
    torch.save({"state_dict": {}, "payload": RunsACommand(f"touch {ran}")}, path)
    with pytest.raises(SRLabError) as refused:
        read_checkpoint(path)
    message = str(refused.value)
    assert message.startswith(f"cannot read checkpoint {path}: it is not a plain weights file")
    assert f"{os.system.__module__}.system" in message  # posix.system: the blocked global
    assert "weights_only" not in message and refused.value.__suppress_context__
    assert not ran.exists()


def test_a_pickled_class_is_refused_naming_the_class(tmp_path: Path) -> None:
    path = tmp_path / "whole_module.pth"
    torch.save(torch.nn.Conv2d(3, 12, 3), path)  # a whole module: rebuilding it runs its code
    with pytest.raises(SRLabError, match="not a plain weights file") as refused:
        read_checkpoint(path)
    assert "torch.nn.modules.conv.Conv2d" in str(refused.value)
    assert "weights_only" not in str(refused.value)


def test_a_corrupt_checkpoint_gives_torchs_reason_without_its_advice(tmp_path: Path) -> None:
    path = tmp_path / "broken.ckpt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(SRLabError, match=r"\(UnpicklingError: Unsupported operand") as refused:
        read_checkpoint(path)
    assert "weights_only" not in str(refused.value)
