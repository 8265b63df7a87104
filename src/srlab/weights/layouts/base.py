"""What every foreign layout of weights is: the keys that identify it, the renaming of each key
to the srlab net's, and how the net's settings are read from the tensors' shapes."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from hydra.utils import get_class
from torch import Tensor

from srlab.utils.errors import SRLabError
from srlab.utils.hydra import instantiate

StateDict = dict[str, Tensor]
# (state dict renamed by the rules, scale asked for or None) -> (net kwargs, state dict to load)
Build = Callable[[StateDict, "int | None"], tuple[dict[str, Any], StateDict]]
Rules = tuple[tuple[str, str], ...]  # (regex of the authors' key, srlab's key)
SAME_KEYS: Rules = ((r"(.+)", r"\1"),)  # rules for a net whose keys are the authors' own
DROPPED = ""  # a rule's srlab key for tensors that become config, not weights
LEVELS = 255.0  # the img_range of weights trained on RGB 0-255 levels
W = r"(weight|bias)"  # a rule's group for the tensor of a conv


@dataclass(frozen=True)
class Layout:
    """A foreign state dict layout: keys it must have, regex -> srlab key rules that explain all
    of its keys (a rule whose replacement is "" drops the key; by default the keys are srlab's
    own), and `build`, which reads the net's settings from the renamed tensors and returns them
    with the state dict to load."""

    name: str  # e.g. "IMDN (Zheng222/IMDN)"
    target: str  # e.g. "srlab.models.imdn.IMDN"
    required: tuple[str, ...]
    build: Build
    rules: Rules = SAME_KEYS


def shapes_only(config: Callable[[StateDict], dict[str, Any]]) -> Build:
    """A Build for nets that take the authors' state dict as it is: settings from shapes alone."""

    def build(state_dict: StateDict, scale: int | None) -> tuple[dict[str, Any], StateDict]:
        return config(state_dict), state_dict

    return build


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


def scale_of_tail(weight: Tensor, n_colors: int) -> int:
    """The scale of a net whose tail is one conv to n_colors * scale^2 channels, shuffled into
    the image (IMDN, RFDN, RLFN, BSRN), from that conv's (out, in, 3, 3) weight."""
    scale = round((weight.shape[0] / n_colors) ** 0.5)
    if n_colors * scale**2 != weight.shape[0]:
        raise SRLabError(
            f"the upsampler's {weight.shape[0]} output channels are not {n_colors} * scale^2"
        )
    return scale


def shuffle_tail_sizes(
    state_dict: StateDict, head: str, block: str, input_copies: int = 1
) -> dict[str, int]:
    """scale, n_feats, n_blocks and n_colors of a net with a head conv (`head`: its weight's key;
    the conv sees the input `input_copies` times), numbered blocks (`block`: a key pattern whose
    group is the number) and the one-conv tail `upsampler.0`."""
    n_feats, head_channels = state_dict[head].shape[:2]
    n_colors = head_channels // input_copies
    return {
        "scale": scale_of_tail(state_dict["upsampler.0.weight"], n_colors),
        "n_feats": n_feats,
        "n_blocks": len(indices(state_dict, block)),
        "n_colors": n_colors,
    }


def scale_of_upsampler(state_dict: Mapping[str, Tensor], n_feats: int) -> int:
    """The scale of a pixel-shuffle upsampler in steps (EDSR, RCAN, CARN), from its convs
    `upsample.<i>`: each makes step^2 * n_feats channels; the scale is the steps' product."""
    steps = [
        math.isqrt(state_dict[f"upsample.{index}.weight"].shape[0] // n_feats)
        for index in indices(state_dict, r"upsample\.(\d+)\.weight")
    ]
    return math.prod(steps)


def read_mean_shift(state_dict: Mapping[str, Tensor], img_range: float) -> list[float]:
    """The RGB mean of EDSR-PyTorch's MeanShift (kept by RCAN and CARN), on the [0, 1] scale:
    two frozen 1x1 convs, `sub_mean` (weight I / std, bias -img_range * mean / std) and
    `add_mean` (+). srlab's mean shift has no std (all published weights use 1): weights
    other than I are refused."""
    identity = torch.eye(3).view(3, 3, 1, 1)
    for name, sign in (("sub_mean", -1), ("add_mean", 1)):
        weight, bias = state_dict.get(f"{name}.weight"), state_dict.get(f"{name}.bias")
        if weight is None or bias is None or not torch.equal(weight.float(), identity):
            raise SRLabError(
                f"{name}'s weight is not the identity (rgb_std != 1) or {name} is incomplete; "
                "srlab's mean shift has no std: these weights cannot be converted"
            )
        if not torch.allclose(sign * bias.float(), -state_dict["sub_mean.bias"].float()):
            raise SRLabError("add_mean.bias is not -sub_mean.bias; the mean shifts disagree")
    # Rounded to 6 places: the mean went through float32 (-114.444 / 255 -> 0.448800000957...).
    return [round(-float(value) / img_range, 6) for value in state_dict["sub_mean.bias"]]


def without_mean_shift(state_dict: StateDict) -> StateDict:
    """The state dict less the MeanShift convs, which become config (`rgb_mean`)."""
    return {k: v for k, v in state_dict.items() if not k.startswith(("sub_mean.", "add_mean."))}


def check_fits(layout: Layout, net_config: dict[str, Any], state_dict: dict) -> None:
    """Build the net on the meta device (no memory) and name the keys and shapes that differ:
    weights that follow the key names but not one consistent net (groups of unequal length)."""
    # Imported first, outside the meta device: constants a module makes at import (ops/color's
    # matrices) would otherwise be empty meta tensors for the rest of the process.
    get_class(net_config["_target_"])
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
