"""Load a trained net from an srlab checkpoint, for inference (eval), without the training module.

srlab's checkpoints carry `checkpoint["srlab"] = {"net_config": {...}, "scale": int}`: the
resolved `model` config (with `_target_`) that rebuilds the net, and the scale it was trained for.
The weights are the state dict's `net.*` entries, or `ema.module.*` when the run kept an EMA of
the weights (what training validated and saved as its result).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from hydra.errors import InstantiationException
from torch import nn

from srlab.utils.errors import SRLabError
from srlab.utils.hydra import instantiate
from srlab.weights import layouts
from srlab.weights.files import existing_file, read_checkpoint, read_weights
from srlab.weights.onnx_net import OnnxNet
from srlab.weights.spandrel import load_spandrel

log = logging.getLogger(__name__)
NET_PREFIX = "net."
EMA_PREFIX = "ema.module."


def load_net(path: str | Path | None, scale: int | None = None, use_ema: bool = True) -> nn.Module:
    """The net a file holds, on the CPU, in eval mode, its scale as `net.scale`: an srlab
    checkpoint (with its EMA weights when it kept them), an exported `.onnx` file, or another
    project's published weights (`layouts/`; others through spandrel). `scale`, when given, must
    be the file's, or one of its scales (a multi-scale file, or a net for any scale as VDSR)."""
    path = existing_file(path)
    if path.suffix == ".onnx":
        net = OnnxNet(path)
    else:
        checkpoint = read_weights(path)
        if "srlab" in checkpoint:
            net = srlab_net(checkpoint, path, use_ema)
        else:
            net = foreign_net(checkpoint, path, scale)
    if scale is not None and net.scale != scale:
        raise SRLabError(
            f"{path} was trained for x{net.scale}, but scale={scale} was asked; "
            f"pass scale={net.scale} (or leave scale out) or a checkpoint trained for x{scale}"
        )
    return net.eval()


def srlab_net(checkpoint: dict[str, Any], path: Path, use_ema: bool) -> nn.Module:
    srlab = checkpoint["srlab"]
    if not isinstance(srlab, dict) or not srlab.get("net_config"):
        raise SRLabError(
            f"{path} is not an srlab checkpoint (it has no checkpoint['srlab']['net_config'] to "
            "rebuild the net from); pass ckpt_path=<run>/checkpoints/last.ckpt of a run of "
            "python -m srlab.train"
        )
    net = build_net(srlab["net_config"], path)
    net.scale = srlab.get("scale", getattr(net, "scale", None))
    weights = net_weights(checkpoint.get("state_dict", {}), use_ema)
    check_weights(net, weights, path)
    net.load_state_dict(weights)
    return net


def foreign_net(checkpoint: dict[str, Any], path: Path, scale: int | None = None) -> nn.Module:
    """Published weights in another project's layout: srlab's own net when the layout is known
    (the exact protocol's arithmetic), else whatever spandrel recognizes."""
    try:
        converted = layouts.detect(layouts.unwrap(checkpoint), scale)
    except SRLabError as unknown:
        try:
            net, _, _ = load_spandrel(checkpoint)
        except SRLabError as not_spandrel:
            raise SRLabError(f"{path}: {unknown}; spandrel: {not_spandrel}") from None
        return net
    net = build_net(converted.net_config, path)
    net.load_state_dict(converted.state_dict)
    net.layout = converted.layout
    return net


def build_net(net_config: dict[str, Any], path: str | Path) -> nn.Module:
    try:
        return instantiate(net_config)
    except InstantiationException as error:
        raise SRLabError(
            f"cannot rebuild the net of {path} from its config "
            f"(_target_: {net_config.get('_target_')}): {error}"
        ) from error


def net_weights(state_dict: dict[str, torch.Tensor], use_ema: bool) -> dict[str, torch.Tensor]:
    """The net's own state dict: the EMA weights when present (and wanted), else `net.*`."""
    has_ema = any(key.startswith(EMA_PREFIX) for key in state_dict)
    prefix = EMA_PREFIX if use_ema and has_ema else NET_PREFIX
    return {
        key[len(prefix) :]: value for key, value in state_dict.items() if key.startswith(prefix)
    }


def check_weights(net: nn.Module, weights: dict[str, torch.Tensor], path: str | Path) -> None:
    """Name the keys and shapes that differ, instead of load_state_dict's wall of text."""
    expected = net.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    shapes = [
        f"{key} (net {tuple(expected[key].shape)}, checkpoint {tuple(weights[key].shape)})"
        for key in sorted(set(expected) & set(weights))
        if expected[key].shape != weights[key].shape
    ]
    problems = [
        f"{what}: {', '.join(keys[:8])}{' ...' if len(keys) > 8 else ''}"
        for what, keys in (("missing", missing), ("unexpected", unexpected), ("shape", shapes))
        if keys
    ]
    if problems:
        raise SRLabError(
            f"the weights in {path} do not fit the net rebuilt from its config "
            f"({type(net).__name__}): {'; '.join(problems)}; the checkpoint was written by "
            "another version of the net: retrain, or load it with the matching srlab version"
        )


def init_weights(net: nn.Module, net_config: dict[str, Any] | None, path: str | Path) -> None:
    """Start `net` from the weights of `path` (an srlab checkpoint, its EMA weights when kept, or
    published weights in a known layout), for fine-tuning: the settings must agree (scale aside);
    tensors whose shape differs (another scale's upsampler) keep their initialization."""
    checkpoint = read_weights(path)
    if "srlab" in checkpoint:
        theirs = (checkpoint["srlab"] or {}).get("net_config") or {}
        weights = net_weights(checkpoint.get("state_dict", {}), use_ema=True)
    else:
        scale = (net_config or {}).get("scale")
        converted = layouts.detect(layouts.unwrap(checkpoint), scale)
        theirs, weights = converted.net_config, converted.state_dict
    ours = net_config or {}
    differ = sorted(
        key for key in set(theirs) & set(ours) if key != "scale" and theirs[key] != ours[key]
    )
    if differ:
        settings = " ".join(f"model.{key}={theirs[key]}" for key in differ if key != "_target_")
        raise SRLabError(
            f"module.init_weights={path} is a {theirs.get('_target_')} with other settings than "
            f"this run's net ({', '.join(differ)}); pass them: {settings}"
        )
    own = net.state_dict()
    fitting = {k: v for k, v in weights.items() if k in own and own[k].shape == v.shape}
    kept = sorted(set(own) - set(fitting))
    net.load_state_dict(fitting, strict=False)
    log.info(
        "init_weights: %d tensors from %s%s",
        len(fitting),
        path,
        f"; kept at initialization: {', '.join(kept)}" if kept else "",
    )


def check_resumable(path: str | Path, net: nn.Module, net_config: dict[str, Any]) -> None:
    """Resuming needs the checkpoint's net: name the settings (or keys, shapes) that differ,
    instead of a traceback from deep inside Lightning's load_state_dict."""
    checkpoint = read_checkpoint(path)
    saved = (checkpoint.get("srlab") or {}).get("net_config") or {}
    # Keys only one side has are settings added since (their defaults): the weights decide.
    differ = sorted(
        key for key in set(saved) & set(net_config) if saved.get(key) != net_config.get(key)
    )
    if differ:
        theirs = " ".join(f"model.{key}={saved.get(key)}" for key in differ)
        ours = ", ".join(f"{key}={net_config.get(key)}" for key in differ)
        raise SRLabError(
            f"{path} was trained with another net than this run's ({ours}); to resume it, pass "
            f"its settings: {theirs}"
        )
    check_weights(net, net_weights(checkpoint.get("state_dict", {}), use_ema=False), path)
