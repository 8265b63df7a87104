"""CARN's layout (nmhkahn/CARN-pytorch state dicts): CARN and CARN-M.

srlab's CARN keeps the authors' names but for three things. Their mean shift is two frozen 1x1
convs (`sub_mean.shifter`, `add_mean.shifter`: the identity and -/+ the mean): srlab keeps the
mean as config (`rgb_mean`). Their 1x1 conv-ReLU fusions are `c<k>.body.0`; srlab's `c<k>.0`.
Their multi-scale files (`carn.pth`, `carn_m.pth`) hold one upsampler per scale,
`upsample.up2|up3|up4.body.<i>`: the asked scale's becomes srlab's `upsample.<i>` (a file with
one upsampler, `upsample.up`, has its scale in its shapes).
"""

from __future__ import annotations

import re
from typing import Any

from srlab.models.blocks import mean_buffer
from srlab.utils.errors import SRLabError
from srlab.weights.layouts.base import (
    Layout,
    StateDict,
    W,
    indices,
    read_mean_shift,
    scale_of_upsampler,
    without_mean_shift,
)

CARN = "srlab.models.carn.CARN"
UPSAMPLE = r"upsample\.(up\d?)\.(\d+)\.(weight|bias)"  # after the rules: branch, index, tensor


def pick_upsampler(state_dict: StateDict, scale: int | None) -> StateDict:
    """The upsampler for `scale` as srlab's `upsample.<i>`; the other scales' dropped."""
    branches = sorted({m[1] for key in state_dict if (m := re.fullmatch(UPSAMPLE, key))})
    if branches == ["up"]:
        wanted = "up"
    else:
        offered = sorted(int(branch.removeprefix("up")) for branch in branches)
        choices = "|".join(map(str, offered))
        if scale is None:
            raise SRLabError(
                f"this CARN file is one multi-scale model (upsamplers for scales {choices}): "
                f"pass scale={choices} to pick one"
            )
        if scale not in offered:
            raise SRLabError(f"this CARN file has no upsampler for x{scale}: pass scale={choices}")
        wanted = f"up{scale}"
    weights = {}
    for key, value in state_dict.items():
        match = re.fullmatch(UPSAMPLE, key)
        if match is None:
            weights[key] = value
        elif match[1] == wanted:
            weights[f"upsample.{match[2]}.{match[3]}"] = value
    return weights


def build_carn(state_dict: StateDict, scale: int | None) -> tuple[dict[str, Any], StateDict]:
    rgb_mean = read_mean_shift(state_dict, img_range=1.0)  # the authors' nets take [0, 1]
    weights = without_mean_shift(pick_upsampler(state_dict, scale))
    n_feats, n_colors = weights["entry.weight"].shape[:2]
    first_conv = weights["b1.b1.body.0.weight"]  # (n_feats, n_feats / groups, 3, 3)
    weights["rgb_mean"] = mean_buffer(rgb_mean, True, n_colors)
    settings = {
        "scale": scale_of_upsampler(weights, n_feats),
        "n_feats": n_feats,
        "n_blocks": len(indices(weights, r"b(\d+)\.c1\.0\.weight")),
        "n_resblocks": len(indices(weights, r"b1\.c(\d+)\.0\.weight")),
        "groups": n_feats // first_conv.shape[1],
        "mobile": "b1.b1.body.4.weight" in weights,  # the efficient block's 1x1
        "n_colors": n_colors,
        "mean_shift": True,
        "rgb_mean": rgb_mean,
    }
    return settings, weights


LAYOUTS = (
    Layout(
        name="CARN (nmhkahn/CARN-pytorch)",
        target=CARN,
        required=("sub_mean.shifter.weight", "entry.weight", "b1.b1.body.0.weight", "exit.weight"),
        rules=(
            (rf"(sub|add)_mean\.shifter\.{W}", r"\1_mean.\2"),  # read into rgb_mean by the build
            (rf"(entry|exit)\.{W}", r"\1.\2"),
            (rf"(b\d+\.b\d+\.body\.\d+)\.{W}", r"\1.\2"),
            (rf"((?:b\d+\.)?c\d+)\.body\.0\.{W}", r"\1.0.\2"),
            (rf"upsample\.(up\d?)\.body\.(\d+)\.{W}", r"upsample.\1.\2.\3"),
        ),
        build=build_carn,
    ),
)
