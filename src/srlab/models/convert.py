"""Other projects' published weights -> srlab nets: recognise the layout, rename the keys.

Four layouts (the key names of each are in its converter below):

| layout         | project                      | srlab net | input the weights were trained on |
| -------------- | ---------------------------- | --------- | --------------------------------- |
| EDSR-PyTorch   | EDSR-PyTorch (`.pt` files)   | ResNetSR  | 0-255, mean in `sub_mean.bias`    |
| RCAN           | RCAN's own code              | RCAN      | 0-255, mean in `sub_mean.bias`    |
| BasicSR EDSR   | BasicSR `edsr_arch.py`       | ResNetSR  | 0-1, `(x - mean) * 255` inside    |
| BasicSR RCAN   | BasicSR `rcan_arch.py`       | RCAN      | 0-1, `(x - mean) * 255` inside    |

All four compute `(x - mean) * 255` before the head (EDSR-PyTorch and RCAN on 0-255 input, the
same numbers), so the srlab net gets img_range=255 and computes exactly what the original did.
BasicSR keeps its mean out of the state dict: its default, DIV2K's, is used.

res_scale is not stored in the weights. Unless the caller passes it, it is the value the
layout's published nets use. EDSR-PyTorch publishes EDSR-baseline (16 x 64, res_scale 1) and
EDSR (32 x 256, 0.1): 1 for 16 x 64, 0.1 for any other size (weights trained at another size
with EDSR-PyTorch's default --res_scale 1 need res_scale=1 passed). BasicSR's EDSR defaults
to 1 and its EDSR_L (256 features) uses 0.1: 0.1 above 64 features, else 1. RCAN's own code
ignores res_scale and BasicSR's RCAN uses 1: 1.

The caller reads the file (torch.load with weights_only=True); this module sees only the dict.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from srlab.models.resnet_sr import DIV2K_RGB_MEAN, mean_buffer
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import instantiate

RESNET_SR = "srlab.models.resnet_sr.ResNetSR"
RCAN = "srlab.models.rcan.RCAN"
IMG_RANGE = 255.0  # every layout here was trained on 0-255 levels
W = r"(weight|bias)"
DROPPED = ""  # a rule's srlab key for tensors that become config (the mean shift convs)


@dataclass(frozen=True)
class Layout:
    """A foreign state dict layout: keys it must have, and regex -> srlab key rules for all
    of its keys ({n_resblocks} and {n_resgroups} in a srlab key are filled in from the sizes)."""

    name: str
    target: str
    required: tuple[str, ...]
    rules: tuple[tuple[str, str], ...]
    res_scale: Callable[[dict[str, int]], float]


@dataclass(frozen=True)
class Converted:
    """A foreign state dict, recognised: `hydra.utils.instantiate(net_config)` builds the net,
    and `state_dict` loads into it (strict)."""

    layout: str
    net_config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]


def edsr_pytorch_res_scale(sizes: dict[str, int]) -> float:
    """EDSR-baseline (16 x 64) is the one net EDSR-PyTorch publishes without residual scaling."""
    return 1.0 if (sizes["n_resblocks"], sizes["n_feats"]) == (16, 64) else 0.1


def basicsr_edsr_res_scale(sizes: dict[str, int]) -> float:
    """BasicSR's EDSR_L (256 features) scales by 0.1; EDSR_M (64) and the class default by 1."""
    return 0.1 if sizes["n_feats"] > 64 else 1.0


def unscaled(sizes: dict[str, int]) -> float:
    return 1.0


MEAN_SHIFT_RULES = ((rf"(sub|add)_mean\.{W}", DROPPED),)
LAYOUTS = (
    Layout(
        name="EDSR-PyTorch",
        target=RESNET_SR,
        required=("sub_mean.bias", "head.0.weight", "body.0.body.0.weight", "tail.1.weight"),
        rules=(
            *MEAN_SHIFT_RULES,
            (rf"head\.0\.{W}", r"head.\1"),
            (rf"body\.(\d+)\.body\.([02])\.{W}", r"body.\1.body.\2.\3"),
            (rf"body\.(\d+)\.{W}", r"body.\1.\2"),
            (rf"tail\.0\.(\d+)\.{W}", r"upsample.\1.\2"),
            (rf"tail\.1\.{W}", r"tail.\1"),
        ),
        res_scale=edsr_pytorch_res_scale,
    ),
    Layout(
        name="RCAN",
        target=RCAN,
        required=("sub_mean.bias", "head.0.weight", "body.0.body.0.body.3.conv_du.0.weight"),
        rules=(
            *MEAN_SHIFT_RULES,
            (rf"head\.0\.{W}", r"head.\1"),
            (rf"body\.(\d+)\.body\.(\d+)\.body\.([02])\.{W}", r"body.\1.body.\2.body.\3.\4"),
            (
                rf"body\.(\d+)\.body\.(\d+)\.body\.3\.conv_du\.([02])\.{W}",
                r"body.\1.body.\2.body.3.gate.\3.\4",
            ),
            (rf"body\.(\d+)\.body\.(\d+)\.{W}", r"body.\1.body.\2.\3"),
            (rf"body\.(\d+)\.{W}", r"body.\1.\2"),
            (rf"tail\.0\.(\d+)\.{W}", r"upsample.\1.\2"),
            (rf"tail\.1\.{W}", r"tail.\1"),
        ),
        res_scale=unscaled,
    ),
    Layout(
        name="BasicSR EDSR",
        target=RESNET_SR,
        required=("conv_first.weight", "body.0.conv1.weight", "conv_last.weight"),
        rules=(
            (rf"conv_first\.{W}", r"head.\1"),
            (rf"body\.(\d+)\.conv1\.{W}", r"body.\1.body.0.\2"),
            (rf"body\.(\d+)\.conv2\.{W}", r"body.\1.body.2.\2"),
            (rf"conv_after_body\.{W}", r"body.{n_resblocks}.\1"),
            (rf"upsample\.(\d+)\.{W}", r"upsample.\1.\2"),
            (rf"conv_last\.{W}", r"tail.\1"),
        ),
        res_scale=basicsr_edsr_res_scale,
    ),
    Layout(
        name="BasicSR RCAN",
        target=RCAN,
        required=(
            "conv_first.weight",
            "body.0.residual_group.0.rcab.3.attention.1.weight",
            "conv_last.weight",
        ),
        rules=(
            (rf"conv_first\.{W}", r"head.\1"),
            (
                rf"body\.(\d+)\.residual_group\.(\d+)\.rcab\.([02])\.{W}",
                r"body.\1.body.\2.body.\3.\4",
            ),
            # BasicSR's attention Sequential starts with its pool: its convs are 1 and 3.
            (
                rf"body\.(\d+)\.residual_group\.(\d+)\.rcab\.3\.attention\.1\.{W}",
                r"body.\1.body.\2.body.3.gate.0.\3",
            ),
            (
                rf"body\.(\d+)\.residual_group\.(\d+)\.rcab\.3\.attention\.3\.{W}",
                r"body.\1.body.\2.body.3.gate.2.\3",
            ),
            (rf"body\.(\d+)\.conv\.{W}", r"body.\1.body.{n_resblocks}.\2"),
            (rf"conv_after_body\.{W}", r"body.{n_resgroups}.\1"),
            (rf"upsample\.(\d+)\.{W}", r"upsample.\1.\2"),
            (rf"conv_last\.{W}", r"tail.\1"),
        ),
        res_scale=unscaled,
    ),
)


def unwrap(obj: Any) -> dict[str, torch.Tensor]:
    """The state dict inside what torch.load returned: BasicSR's {"params_ema": ...} (the EMA
    weights, what BasicSR evaluates) or {"params": ...}, or a bare state dict."""
    if isinstance(obj, Mapping):
        for key in ("params_ema", "params"):
            if isinstance(obj.get(key), Mapping):
                return dict(obj[key])
        if obj and all(isinstance(value, torch.Tensor) for value in obj.values()):
            return dict(obj)
        keys = ", ".join(map(str, list(obj)[:5]))
        raise SRLabError(
            f"the weights file holds a dict with keys {keys}, not a state dict of tensors nor "
            "BasicSR's {'params': ...} / {'params_ema': ...}; pass the net's weights file"
        )
    raise SRLabError(f"the weights file holds a {type(obj).__name__}, not a state dict")


def detect(state_dict: Mapping[str, torch.Tensor], res_scale: float | None = None) -> Converted:
    """Recognise the layout of `state_dict`, read the net's sizes from its tensors, and rename
    its keys to srlab's. `res_scale` overrides the layout's published value (module doc)."""
    misfits = {layout.name: unmatched_keys(layout, state_dict) for layout in LAYOUTS}
    layout = next((layout for layout in LAYOUTS if not misfits[layout.name]), None)
    if layout is None:
        raise no_layout_error(misfits)
    renamed = rename(layout, state_dict)
    sizes = SIZES[layout.target](renamed)
    renamed = {key.format(**sizes): value for key, value in renamed.items()}
    rgb_mean = read_rgb_mean(state_dict)
    net_config = {
        "_target_": layout.target,
        **sizes,
        "res_scale": layout.res_scale(sizes) if res_scale is None else float(res_scale),
        "mean_shift": True,
        "rgb_mean": rgb_mean,
        "img_range": IMG_RANGE,
    }
    renamed["rgb_mean"] = mean_buffer(rgb_mean, True, sizes["n_colors"])
    check_fits(layout, net_config, renamed)
    return Converted(layout.name, net_config, renamed)


def rule_for(layout: Layout, key: str) -> tuple[re.Match, str] | None:
    for pattern, replacement in layout.rules:
        match = re.fullmatch(pattern, key)
        if match:
            return match, replacement
    return None


def unmatched_keys(layout: Layout, state_dict: Mapping[str, Any]) -> list[str]:
    """Keys no rule of the layout explains, then the required keys it lacks."""
    stray = [key for key in state_dict if rule_for(layout, key) is None]
    return stray + [f"{key} (missing)" for key in layout.required if key not in state_dict]


def no_layout_error(misfits: dict[str, list[str]]) -> SRLabError:
    closest = min(misfits, key=lambda name: len(misfits[name]))
    keys = misfits[closest]
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return SRLabError(
        f"these weights match no layout srlab can convert (tried {', '.join(misfits)}); the "
        f"closest, {closest}, does not explain: {shown}; pass weights of EDSR or RCAN as "
        "EDSR-PyTorch, RCAN or BasicSR save them"
    )


def rename(layout: Layout, state_dict: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    renamed = {}
    for key, value in state_dict.items():
        match, replacement = rule_for(layout, key)
        if replacement != DROPPED:
            renamed[match.expand(replacement)] = value
    return renamed


def indices(state_dict: Mapping[str, Any], pattern: str) -> list[int]:
    """The distinct numbers that the group of `pattern` takes over the keys, sorted."""
    found = {int(m.group(1)) for key in state_dict if (m := re.fullmatch(pattern, key))}
    return sorted(found)


def read_scale(state_dict: Mapping[str, torch.Tensor], n_feats: int) -> int:
    """Each pixel-shuffle conv makes step**2 * n_feats channels; the scale is the steps' product."""
    scale = 1
    for index in indices(state_dict, r"upsample\.(\d+)\.weight"):
        step = math.isqrt(state_dict[f"upsample.{index}.weight"].shape[0] // n_feats)
        scale *= step
    return scale


def common_sizes(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    n_feats, n_colors = state_dict["head.weight"].shape[:2]
    return {"scale": read_scale(state_dict, n_feats), "n_feats": n_feats, "n_colors": n_colors}


def resnet_sr_sizes(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    n_resblocks = len(indices(state_dict, r"body\.(\d+)\.body\.0\.weight"))
    return {**common_sizes(state_dict), "n_resblocks": n_resblocks}


def rcan_sizes(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    sizes = common_sizes(state_dict)
    squeezed = state_dict["body.0.body.0.body.3.gate.0.weight"].shape[0]
    return {
        **sizes,
        "n_resgroups": len(indices(state_dict, r"body\.(\d+)\.body\.0\.body\.0\.weight")),
        "n_resblocks": len(indices(state_dict, r"body\.0\.body\.(\d+)\.body\.0\.weight")),
        "reduction": sizes["n_feats"] // squeezed,
    }


SIZES = {RESNET_SR: resnet_sr_sizes, RCAN: rcan_sizes}


def read_rgb_mean(state_dict: Mapping[str, torch.Tensor]) -> list[float]:
    """EDSR-PyTorch's MeanShift: 1x1 convs with weight I / std and bias -/+ 255 * mean / std;
    srlab has no std (all published weights use 1). BasicSR stores no mean: DIV2K's."""
    if "sub_mean.bias" not in state_dict:
        return list(DIV2K_RGB_MEAN)
    identity = torch.eye(3).view(3, 3, 1, 1)
    for name, sign in (("sub_mean", -1), ("add_mean", 1)):
        weight, bias = state_dict.get(f"{name}.weight"), state_dict.get(f"{name}.bias")
        if weight is None or bias is None or not torch.equal(weight.float(), identity):
            raise SRLabError(
                f"{name}.weight is not the identity (rgb_std != 1) or {name} is incomplete; "
                "srlab's mean shift has no std: these weights cannot be converted"
            )
        if not torch.allclose(sign * bias.float(), -state_dict["sub_mean.bias"].float()):
            raise SRLabError("add_mean.bias is not -sub_mean.bias; the mean shifts disagree")
    # Rounded to 6 places: 255 * mean went through float32 (-114.444 -> 0.448800000957...).
    return [round(-float(value) / IMG_RANGE, 6) for value in state_dict["sub_mean.bias"]]


def check_fits(layout: Layout, net_config: dict[str, Any], state_dict: dict) -> None:
    """Build the net on the meta device (no memory) and name the keys and shapes that differ:
    weights that follow the key names but not one consistent net (groups of unequal length)."""
    with torch.device("meta"):
        expected = {key: value.shape for key, value in instantiate(net_config).state_dict().items()}
    differ = sorted(set(expected) ^ set(state_dict)) + [
        f"{key} {tuple(state_dict[key].shape)} (net {tuple(shape)})"
        for key, shape in expected.items()
        if key in state_dict and state_dict[key].shape != shape
    ]
    if differ:
        sizes = {key: value for key, value in net_config.items() if key != "_target_"}
        raise SRLabError(
            f"these {layout.name} weights do not form one {layout.target.rsplit('.', 1)[1]} "
            f"({sizes}); srlab keys that differ: {', '.join(differ[:5])}"
        )
