"""`python -m srlab.export`: a trained net as one ONNX or TorchScript file.

    python -m srlab.export ckpt_path=<run>/checkpoints/last.ckpt format=onnx output=net_x2.onnx
    python -m srlab.export ckpt_path=<run>/checkpoints/last.ckpt format=torchscript output=net.pt

The file takes float32 RGB (N, 3, H, W) in [0, 1] and gives (N, 3, sH, sW), with N, H and W
dynamic; it holds the EMA weights when the run kept them (use_ema=true), and says its scale and
the srlab version in its metadata (srlab.weights.exporters). `ckpt_path` is what `load_net` reads:
an srlab checkpoint, or another project's published weights. srlab runs an .onnx file as a net
(`srlab.weights.onnx_net.OnnxNet`): `python -m srlab.upscale ckpt_path=net_x2.onnx ...`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from srlab.utils.entry import hydra_entry_point
from srlab.utils.errors import SRLabError
from srlab.weights.exporters import FORMATS, MIN_OPSET, export_metadata, export_net
from srlab.weights.files import read_checkpoint
from srlab.weights.loading import EMA_PREFIX, load_net
from srlab.weights.onnx_net import OnnxNet

log = logging.getLogger("srlab")  # not "__main__" under python -m
USAGE = (
    "python -m srlab.export ckpt_path=<run>/checkpoints/last.ckpt format=onnx|torchscript"
    " output=net_x2.onnx"
)
EXAMPLES = (
    (
        "python -m srlab.export ckpt_path=<run>/checkpoints/last.ckpt format=onnx "
        "output=logs/export/net_x2.onnx"
    ),
    (
        "python -m srlab.export ckpt_path=<run>/checkpoints/last.ckpt format=torchscript "
        "output=logs/export/net_x2.pt"
    ),
    (
        "python -m srlab.export ckpt_path=<run>/checkpoints/best-step1500.ckpt use_ema=false "
        "output=net.onnx"
    ),
)
REQUIRED = {
    "ckpt_path": "ckpt_path=<run>/checkpoints/last.ckpt",
    "output": "output=<file to write, e.g. net_x2.onnx>",
}


def export(cfg: DictConfig) -> Path:
    """The written file."""
    check_config(cfg)
    net = load_net(cfg.ckpt_path, use_ema=cfg.use_ema)  # its scale is the checkpoint's
    if isinstance(net, OnnxNet):
        raise SRLabError(
            f"ckpt_path={cfg.ckpt_path} is already an exported ONNX file; pass the checkpoint "
            "it was exported from"
        )
    weights = weights_kind(cfg.ckpt_path, cfg.use_ema)
    metadata = export_metadata(net.scale, weights)
    path = export_net(net, cfg.output, cfg.format, metadata, cfg.get("opset"))
    log.info("x%d net (%s weights) written to %s as %s", net.scale, weights, path, cfg.format)
    return path


def weights_kind(ckpt_path: str, use_ema: bool) -> str:
    """Which weights load_net took: "ema" or "net" of an srlab run, else "published"."""
    checkpoint = read_checkpoint(ckpt_path)
    if "srlab" not in checkpoint:
        return "published"
    has_ema = any(key.startswith(EMA_PREFIX) for key in checkpoint.get("state_dict", {}))
    return "ema" if use_ema and has_ema else "net"


def check_config(cfg: DictConfig) -> None:
    for key, example in REQUIRED.items():
        if OmegaConf.is_missing(cfg, key) or cfg.get(key) in (None, ""):
            raise SRLabError(f"{key} is required: pass {example}")
    if cfg.format not in FORMATS:
        raise SRLabError(
            f"format={cfg.format!r} is unknown; pass format={' or format='.join(FORMATS)}"
        )
    opset = cfg.get("opset")
    if opset is not None and (not isinstance(opset, int) or opset < MIN_OPSET):
        raise SRLabError(
            f"opset={opset!r}: torch's ONNX exporter writes opset {MIN_OPSET} or later; pass "
            f"opset={MIN_OPSET} or more, or opset=null for its default"
        )


main = hydra_entry_point("export", export, USAGE, __doc__, EXAMPLES)


if __name__ == "__main__":
    main()
