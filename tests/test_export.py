"""`python -m srlab.export`: a checkpoint as one ONNX / TorchScript file that runs like the net."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from torch import nn

from conftest import REPO_ROOT, compose_train
from srlab.data.sets import BenchmarkSet
from srlab.export import export
from srlab.models.resnet_sr import ResNetSR
from srlab.ops.inference import super_resolve
from srlab.ops.pixels import to_float, to_uint8
from srlab.train import train
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import asset_dir, config_dir
from srlab.weights.exporters import export_metadata, export_net
from srlab.weights.loading import load_net
from srlab.weights.onnx_net import OnnxNet, read_metadata


def compose_export(tmp_path: Path, *overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose("export", overrides=[f"paths.output_dir={tmp_path / 'log'}", *overrides])


def set5_lr(scale: int, names: tuple[str, ...] = ("bird", "woman")) -> list[torch.Tensor]:
    """Set5 LR images (float (1, 3, h, w)) by the protocol: bird 144x144, woman 172x114 at x2."""
    images = BenchmarkSet("Set5", asset_dir("Set5"), scale)
    return [to_float(image.lr)[None] for image in images if image.name in names]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny x2 net after 3 steps, with an EMA of its weights (which therefore differ)."""
    tmp_path = tmp_path_factory.mktemp("run")
    overrides = ["model.n_resblocks=2", "trainer.max_steps=3", "logger=none"]
    # One validation image: the run's scores do not matter here, its weights do.
    overrides += ["module.ema_decay=0.9", "++trainer.limit_val_batches=1"]
    train(compose_train(tmp_path, overrides))
    return tmp_path / "run" / "checkpoints" / "last.ckpt"


@pytest.fixture(scope="module")
def onnx_file(checkpoint: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("onnx")
    return export(compose_export(out, f"ckpt_path={checkpoint}", f"output={out / 'net.onnx'}"))


def levels(sr: torch.Tensor) -> np.ndarray:
    return to_uint8(sr[0]).astype(np.int16)


def test_onnxruntime_gives_the_checkpoints_uint8_output_on_set5(
    checkpoint: Path, onnx_file: Path
) -> None:
    net, onnx_net = load_net(checkpoint, 2), OnnxNet(onnx_file)
    images = set5_lr(2)
    assert len({lr.shape for lr in images}) == 2  # two sizes, neither the export's example
    for lr in images:
        expected = levels(super_resolve(net, lr, 2))
        got = levels(super_resolve(onnx_net, lr, 2))
        off = np.abs(got - expected)
        assert got.shape == expected.shape == (lr.shape[2] * 2, lr.shape[3] * 2, 3)
        assert (off == 0).mean() >= 0.999
        assert off.max() <= 1


def test_the_onnx_file_holds_the_ema_weights(checkpoint: Path, onnx_file: Path) -> None:
    (lr,) = set5_lr(2, ("woman",))
    got = OnnxNet(onnx_file)(lr)
    with torch.inference_mode():
        ema, raw = load_net(checkpoint, 2, use_ema=True)(lr), load_net(checkpoint, 2, False)(lr)
    assert (got - ema).abs().max() < 1e-4
    assert (got - raw).abs().max() > 1e-3  # the EMA really is other weights


def test_the_file_names_its_scale_and_srlab_version_and_stands_alone(onnx_file: Path) -> None:
    metadata = read_metadata(onnx_file)
    assert metadata["scale"] == "2"
    assert metadata["srlab_version"] == importlib.metadata.version("srlab")
    assert metadata["weights"] == "ema"
    onnx_net = OnnxNet(onnx_file)
    assert (onnx_net.scale, onnx_net.input_channels) == (2, 3)
    assert list(onnx_file.parent.iterdir()) == [onnx_file]  # no side .data file, no temp file


def test_a_batch_of_two_gives_each_images_own_output(checkpoint: Path, onnx_file: Path) -> None:
    bird, woman = set5_lr(2)
    batch = torch.cat([bird[..., :100, :90], woman[..., :100, :90]])  # (2, 3, 100, 90)
    got = OnnxNet(onnx_file)(batch)
    with torch.inference_mode():
        expected = load_net(checkpoint, 2)(batch)
    assert got.shape == (2, 3, 200, 180)
    assert (got - expected).abs().max() < 1e-4


def test_an_onnx_net_runs_in_tiles_like_the_net(checkpoint: Path, onnx_file: Path) -> None:
    (lr,) = set5_lr(2, ("bird",))
    expected = super_resolve(load_net(checkpoint, 2), lr, 2, tile=64, tile_overlap=16)
    got = super_resolve(OnnxNet(onnx_file), lr, 2, tile=64, tile_overlap=16)
    assert (got - expected).abs().max() < 1e-4


def test_torchscript_round_trip(checkpoint: Path, tmp_path: Path) -> None:
    output = tmp_path / "net.pt"
    export(
        compose_export(
            tmp_path, f"ckpt_path={checkpoint}", "format=torchscript", f"output={output}"
        )
    )
    files = {"srlab.json": ""}
    scripted = torch.jit.load(str(output), _extra_files=files)
    metadata = json.loads(files["srlab.json"])
    assert metadata["scale"] == "2"
    assert metadata["srlab_version"] == importlib.metadata.version("srlab")
    bird, woman = set5_lr(2)
    net = load_net(checkpoint, 2)
    with torch.inference_mode():
        for lr in (woman, torch.cat([bird[..., :100, :90], woman[..., :100, :90]])):
            assert (scripted(lr) - net(lr)).abs().max() < 1e-5


@pytest.mark.parametrize(
    ("upsampler", "scale"),
    [
        # pixelshuffle x2 is the checkpoint's; deconv x4 takes deconv x2's path (even scale).
        ("deconv", 2),
        ("pixelshuffle", 3),
        ("deconv", 3),
        ("pixelshuffle", 4),
        pytest.param("deconv", 4, marks=pytest.mark.slow),
    ],
)
def test_every_upsampler_and_scale_exports_with_dynamic_sizes(
    upsampler: str, scale: int, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    # No global skip: the checkpoint's net has it, and its bicubic doubles the export time.
    net = ResNetSR(scale, n_resblocks=2, n_feats=8, upsampler=upsampler).eval()
    path = export_net(net, tmp_path / "net.onnx", "onnx", export_metadata(scale, "net"), None)
    (lr,) = set5_lr(scale, ("woman",))  # 76x114 at x3, 57x86 at x4: not the example's size
    got = OnnxNet(path)(lr)
    with torch.inference_mode():
        expected = net(lr)
    assert got.shape == (1, 3, lr.shape[2] * scale, lr.shape[3] * scale)
    assert (got - expected).abs().max() < 1e-4


class SizedFromPythonInts(nn.Module):
    """x2 nearest neighbour with its output size read as Python ints: a trace bakes the
    example's size into the file, as a net with shape arithmetic in Python would."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = int(x.shape[2]), int(x.shape[3])
        return F.interpolate(x, size=(2 * height, 2 * width), mode="nearest")


def test_an_export_that_freezes_the_input_size_fails_and_leaves_no_file(tmp_path: Path) -> None:
    path = tmp_path / "net.pt"
    with pytest.raises(RuntimeError, match=r"the exported net differs from the net on a \("):
        export_net(SizedFromPythonInts(), path, "torchscript", export_metadata(2, "net"), None)
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temp file


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ([], "ckpt_path"),
        (["ckpt_path=x.ckpt"], "output"),
        (["ckpt_path=x.ckpt", "output=x.onnx", "format=tflite"], "format"),
        (["ckpt_path=x.ckpt", "output=x.onnx", "opset=11"], "opset"),
    ],
)
def test_a_missing_or_invalid_key_is_a_user_error_naming_it(
    overrides: list[str], key: str, tmp_path: Path
) -> None:
    with pytest.raises(SRLabError, match=key):
        export(compose_export(tmp_path, *overrides))


def test_exporting_an_onnx_file_again_is_a_user_error(onnx_file: Path, tmp_path: Path) -> None:
    cfg = compose_export(tmp_path, f"ckpt_path={onnx_file}", f"output={tmp_path / 'again.onnx'}")
    with pytest.raises(SRLabError, match="already an exported ONNX file"):
        export(cfg)


def test_the_command_line_names_a_missing_key(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "srlab.export",
            f"output={tmp_path / 'x.onnx'}",
            f"paths.log_dir={tmp_path / 'logs'}",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 1
    assert "ckpt_path is required" in completed.stderr
