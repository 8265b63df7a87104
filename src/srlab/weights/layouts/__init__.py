"""Other projects' published weights -> srlab nets: recognise the layout, rename the keys.

One module per family of layouts (`edsr_rcan.py`, `imdn.py`, ...), each a tuple `LAYOUTS` of
`base.Layout`s. The caller reads the file (torch.load with weights_only=True, or a `.mat`); this
package sees only the dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from srlab.utils.errors import SRLabError
from srlab.weights.layouts import edsr_rcan
from srlab.weights.layouts.base import check_fits, rename, unmatched_keys

LAYOUTS = (*edsr_rcan.LAYOUTS,)
DATA_PARALLEL_PREFIX = "module."


@dataclass(frozen=True)
class Converted:
    """A foreign state dict, recognised: `hydra.utils.instantiate(net_config)` builds the net,
    and `state_dict` loads into it (strict)."""

    layout: str
    net_config: dict[str, Any]
    state_dict: dict[str, torch.Tensor]


def unwrap(obj: Any) -> dict[str, torch.Tensor]:
    """The state dict inside what torch.load returned: BasicSR's {"params_ema": ...} (the EMA
    weights, what BasicSR evaluates) or {"params": ...}, or a bare state dict; without the
    `module.` prefix that a net saved from DataParallel puts on every key (IMDN's files)."""
    if isinstance(obj, Mapping):
        for key in ("params_ema", "params"):
            if isinstance(obj.get(key), Mapping):
                return unwrap(obj[key])
        if obj and all(isinstance(value, torch.Tensor) for value in obj.values()):
            return {key.removeprefix(DATA_PARALLEL_PREFIX): value for key, value in obj.items()}
        keys = ", ".join(map(str, list(obj)[:5]))
        raise SRLabError(
            f"the weights file holds a dict with keys {keys}, not a state dict of tensors nor "
            "BasicSR's {'params': ...} / {'params_ema': ...}; pass the net's weights file"
        )
    raise SRLabError(f"the weights file holds a {type(obj).__name__}, not a state dict")


def detect(state_dict: Mapping[str, torch.Tensor], scale: int | None = None) -> Converted:
    """Recognise the layout of `state_dict`, read the net's settings from its tensors, and rename
    its keys to srlab's. `scale` picks the branch of a multi-scale file (CARN-M) or the scale of
    a net that has none of its own (VDSR); else the file's scale is used."""
    misfits = {layout.name: unmatched_keys(layout, state_dict) for layout in LAYOUTS}
    layout = next((layout for layout in LAYOUTS if not misfits[layout.name]), None)
    if layout is None:
        raise no_layout_error(misfits)
    settings, weights = layout.build(rename(layout, state_dict), scale)
    net_config = {"_target_": layout.target, **settings}
    check_fits(layout, net_config, weights)
    return Converted(layout.name, net_config, weights)


def no_layout_error(misfits: dict[str, list[str]]) -> SRLabError:
    closest = min(misfits, key=lambda name: len(misfits[name]))
    keys = misfits[closest]
    shown = ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")
    return SRLabError(
        f"these weights match no layout srlab can convert (tried {', '.join(misfits)}); the "
        f"closest, {closest}, does not explain: {shown}; pass weights of EDSR or RCAN as "
        "EDSR-PyTorch, RCAN or BasicSR save them"
    )
