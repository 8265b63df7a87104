"""What every foreign layout of weights is: the keys that identify it, the renaming of each key
to the srlab net's, and how the net's settings are read from the tensors' shapes."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from srlab.utils.errors import SRLabError
from srlab.utils.hydra import instantiate

StateDict = dict[str, Tensor]
# (state dict renamed by the rules, scale asked for or None) -> (net kwargs, state dict to load)
Build = Callable[[StateDict, "int | None"], tuple[dict[str, Any], StateDict]]
SAME_KEYS = ((r"(.+)", r"\1"),)  # rules for a net whose keys are the authors' own
DROPPED = ""  # a rule's srlab key for tensors that become config, not weights


@dataclass(frozen=True)
class Layout:
    """A foreign state dict layout: keys it must have, regex -> srlab key rules that explain all
    of its keys (a rule whose replacement is "" drops the key), and `build`, which reads the
    net's settings from the renamed tensors and returns them with the state dict to load."""

    name: str  # e.g. "IMDN (Zheng222/IMDN)"
    target: str  # e.g. "srlab.models.imdn.IMDN"
    required: tuple[str, ...]
    rules: tuple[tuple[str, str], ...]
    build: Build


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
