"""A trained net as one self-contained file for other runtimes: ONNX or TorchScript.

Both take float32 RGB (N, 3, H, W) in [0, 1] and give (N, 3, sH, sW), with N, H and W dynamic,
and carry the weights inside (no side `.data` file) and srlab's metadata (`scale`,
`srlab_version`, `weights`): in ONNX's `metadata_props` (`srlab.weights.onnx_net.read_metadata`),
in TorchScript as the extra file `srlab.json`:

    files = {"srlab.json": ""}
    net = torch.jit.load("net_x2.pt", _extra_files=files)
    json.loads(files["srlab.json"])  # {"scale": "2", "srlab_version": "0.1.0", ...}

ONNX goes through the exporter torch recommends (`torch.onnx.export(dynamo=True)`, from
`torch.export`). TorchScript is traced: `torch.jit.script` cannot compile ResNetSR's global skip
(`F.interpolate(scale_factor=<int>)`), and srlab's nets have no data-dependent control flow for a
trace to freeze. Every export is run once more on an input of another shape than the one it was
made from, and compared with the net, so that a file that froze a shape is never left behind.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import Tensor, nn
from torch.export import Dim

from srlab.utils.files import atomic_path
from srlab.weights.onnx_net import OnnxNet

FORMATS = ("onnx", "torchscript")
MIN_OPSET = 18  # what torch's exporter implements; below it converts afterwards, not reliably
TORCHSCRIPT_METADATA = "srlab.json"
EXAMPLE_SHAPE = (2, 48, 40)  # N, H, W the export traces with: distinct, so none is tied to another
EXPORT_MIN_SIZE = 21  # LR pixels: what torch.export may assume of every height and width
CHECK_SHAPE = (3, 23, 31)  # N, H, W of the check: other sizes than the example's
# An export and its check must agree to float rounding (measured: ~2e-7 on random nets).
TOLERANCE = 1e-4
# What the exporter says at INFO (each optimizer pass) and WARNING (no torchvision ops to
# register), none of it about this net; its errors still show.
EXPORTER_LOGGERS = {
    "onnxscript": logging.WARNING,
    "onnx_ir": logging.WARNING,
    "torch.onnx._internal.exporter._registration": logging.ERROR,
}


def export_metadata(scale: int, weights: str) -> dict[str, str]:
    """What a file says about itself; `weights`: which weights it holds ("ema", "net" of an
    srlab run, or "published")."""
    return {
        "scale": str(scale),
        "srlab_version": importlib.metadata.version("srlab"),
        "weights": weights,
        "input": "float32 RGB (N, 3, H, W) in [0, 1]",
        "output": f"float32 RGB (N, 3, {scale}H, {scale}W), clamp to [0, 1]",
    }


def example_input(shape: tuple[int, int, int], seed: int = 0) -> Tensor:
    batch, height, width = shape
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, height, width, generator=generator)


def export_net(
    net: nn.Module, path: str | Path, format: str, metadata: dict[str, str], opset: int | None
) -> Path:
    """Write `net` to `path` atomically, checked on a second input shape; `net` is left in
    eval mode on the CPU."""
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; one of {FORMATS}")
    path = Path(path)
    net = net.eval().cpu()
    with atomic_path(path) as tmp:
        if format == "onnx":
            export_onnx(net, tmp, metadata, opset)
        else:
            export_torchscript(net, tmp, metadata)
        check_export(net, load_export(tmp, format))
    return path


@contextlib.contextmanager
def quiet_exporter() -> Iterator[None]:
    loggers = {logging.getLogger(name): level for name, level in EXPORTER_LOGGERS.items()}
    before = {logger: logger.level for logger in loggers}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*LeafSpec", category=FutureWarning)
        for logger, level in loggers.items():
            logger.setLevel(level)
        try:
            yield
        finally:
            for logger, level in before.items():
                logger.setLevel(level)


def export_onnx(net: nn.Module, path: Path, metadata: dict[str, str], opset: int | None) -> None:
    # A floor for tracing only (ONNX keeps no bounds): ESA's pooled map (RFDN, RLFN, BSRN) must
    # not come down to one pixel while torch.export reasons about the shapes.
    dims = {
        0: Dim("batch"),
        2: Dim("height", min=EXPORT_MIN_SIZE),
        3: Dim("width", min=EXPORT_MIN_SIZE),
    }
    with quiet_exporter():
        program = torch.onnx.export(
            net,
            (example_input(EXAMPLE_SHAPE),),
            dynamo=True,
            dynamic_shapes=(dims,),
            input_names=["lr"],
            output_names=["sr"],
            opset_version=opset,
            verbose=False,
        )
    program.model.metadata_props.update(metadata)
    # external_data=False: the weights go inside the one file.
    program.save(path, external_data=False)


def export_torchscript(net: nn.Module, path: Path, metadata: dict[str, str]) -> None:
    with torch.no_grad():
        traced = torch.jit.trace(net, example_input(EXAMPLE_SHAPE))
    extra = {TORCHSCRIPT_METADATA: json.dumps(metadata, indent=2)}
    torch.jit.save(traced, str(path), _extra_files=extra)


def load_export(path: Path, format: str) -> nn.Module:
    return OnnxNet(path) if format == "onnx" else torch.jit.load(str(path), map_location="cpu")


@torch.inference_mode()
def check_export(net: nn.Module, exported: nn.Module) -> None:
    """The exported net against the net, on another batch size and image size than the
    example's: a shape frozen into the file fails here, not in the user's hands."""
    lr = example_input(CHECK_SHAPE, seed=1)
    expected, got = net(lr), exported(lr)
    if got.shape != expected.shape or (got - expected).abs().max() > TOLERANCE:
        difference = (got - expected).abs().max().item() if got.shape == expected.shape else None
        raise RuntimeError(
            f"the exported net differs from the net on a {tuple(lr.shape)} input: shape "
            f"{tuple(got.shape)} vs {tuple(expected.shape)}, max difference {difference}"
        )
