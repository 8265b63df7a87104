"""Other projects' published weights -> srlab nets: recognise the layout, rename the keys.

One module per family of layouts (`edsr_rcan.py`, `imdn.py`, ...), each a tuple `LAYOUTS` of
`base.Layout`s, found here by listing the package: a new family's layouts are its module alone.
The caller reads the file (torch.load with weights_only=True, or a `.mat`); this package sees
only the dict.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from srlab.utils.errors import SRLabError
from srlab.weights.layouts.base import Layout, check_fits, rename, unmatched_keys


def all_layouts() -> tuple[Layout, ...]:
    """Every module's LAYOUTS, in the order of the modules' names."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__) if info.name != "base")
    modules = [importlib.import_module(f"{__name__}.{name}") for name in names]
    return tuple(layout for module in modules for layout in module.LAYOUTS)


LAYOUTS = all_layouts()
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
    candidates = [layout for layout in LAYOUTS if not misfits[layout.name]]
    if not candidates:
        raise no_layout_error(misfits)
    errors = []
    for layout in candidates:  # keys alone may fit two layouts; the shapes decide
        try:
            settings, weights = layout.build(rename(layout, state_dict), scale)
            net_config = {"_target_": layout.target, **settings}
            check_fits(layout, net_config, weights)
        except SRLabError as error:
            errors.append(error)
            continue
        return Converted(layout.name, net_config, weights)
    raise errors[0]


def no_layout_error(misfits: dict[str, list[str]], shown: int = 3) -> SRLabError:
    """Name the layouts that came closest (fewest keys unexplained) and what each lacks."""
    closest = sorted(misfits, key=lambda name: len(misfits[name]))[:shown]
    lines = [
        f"{name}: {', '.join(misfits[name][:4])}"
        + (f" and {len(misfits[name]) - 4} more" if len(misfits[name]) > 4 else "")
        for name in closest
    ]
    return SRLabError(
        f"these weights match no layout srlab can convert ({len(misfits)} tried: "
        f"{', '.join(misfits)}); the closest, with the keys each does not explain: "
        f"{'; '.join(lines)}. Pass a file of one of these layouts, or install srlab[zoo] for "
        "spandrel's architectures"
    )
