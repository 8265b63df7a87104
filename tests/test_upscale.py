"""`python -m srlab.upscale`: a folder through a trained checkpoint, as validation runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from conftest import SET5, compose_train
from helpers.images import gray_set5
from srlab.data.io import read_image, write_image
from srlab.ops.inference import super_resolve
from srlab.ops.pixels import to_float
from srlab.train import train
from srlab.upscale import upscale
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir
from srlab.weights.loading import load_net


def compose_upscale(tmp_path: Path, *overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            "upscale", overrides=[f"paths.output_dir={tmp_path / 'up'}", "device=cpu", *overrides]
        )


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("run")
    train(compose_train(tmp_path, ["trainer.max_steps=2", "logger=none"]))
    return tmp_path / "run" / "checkpoints" / "last.ckpt"


def test_every_image_is_written_at_scale_times_its_size(tmp_path: Path, checkpoint: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("bird.png", "butterfly.png"):
        shutil.copy(SET5 / name, inputs)
    write_image(inputs / "gray.png", gray_set5("butterfly"))
    written = upscale(
        compose_upscale(
            tmp_path,
            f"ckpt_path={checkpoint}",
            f"input={inputs}",
            f"output={tmp_path / 'out'}",
            "tile=64",
        )
    )
    assert sorted(p.name for p in written) == ["bird.png", "butterfly.png", "gray.png"]
    for path in written:
        lr, sr = read_image(inputs / path.name), read_image(path)
        assert sr.shape == (lr.shape[0] * 2, lr.shape[1] * 2, lr.shape[2])
    bird = to_float(read_image(inputs / "bird.png"))[None]
    expected = super_resolve(load_net(checkpoint, 2), bird, 2)[0]
    got = to_float(read_image(tmp_path / "out" / "bird.png"))
    assert torch.allclose(got, expected, atol=1 / 255)  # saved levels of the same SR


def test_a_checkpoint_of_another_scale_is_a_user_error(tmp_path: Path, checkpoint: Path) -> None:
    cfg = compose_upscale(
        tmp_path, f"ckpt_path={checkpoint}", "scale=4", f"input={tmp_path}", f"output={tmp_path}/o"
    )
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(SRLabError, match="scale=4"):
        upscale(cfg)
