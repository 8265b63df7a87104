"""PAN's layout (zhaohengyuan1/PAN state dicts, `PANx{2,3,4}_DF2K.pth`): the keys are srlab's.

A x4 net has two upsampling steps (`upconv2` ...); x2 and x3 nets have one and the same shapes,
so their scale is the caller's.
"""

from __future__ import annotations

from typing import Any

from srlab.utils.errors import SRLabError
from srlab.weights.layouts.base import Layout, StateDict, indices

PAN = "srlab.models.pan.PAN"
ONE_STEP_SCALES = (2, 3)


def pan_scale(state_dict: StateDict, scale: int | None) -> int:
    if "upconv2.weight" in state_dict:
        return 4
    if scale not in ONE_STEP_SCALES:
        raise SRLabError(
            f"these PAN weights upsample in one step: x2 and x3 nets have the same shapes, so "
            f"the scale cannot be read from them (asked: {scale}); pass scale=2 or scale=3"
        )
    return scale


def build_pan(state_dict: StateDict, scale: int | None) -> tuple[dict[str, Any], StateDict]:
    n_feats, n_colors = state_dict["conv_first.weight"].shape[:2]
    settings = {
        "scale": pan_scale(state_dict, scale),
        "n_feats": n_feats,
        "n_blocks": len(indices(state_dict, r"SCPA_trunk\.(\d+)\.conv1_a\.weight")),
        "upsampler_feats": state_dict["upconv1.weight"].shape[0],
        "n_colors": n_colors,
    }
    return settings, state_dict


LAYOUTS = (
    Layout(
        name="PAN (zhaohengyuan1/PAN)",
        target=PAN,
        required=(
            "conv_first.weight",
            "SCPA_trunk.0.PAConv.k2.weight",
            "upconv1.weight",
            "att1.conv.weight",
            "HRconv1.weight",
            "conv_last.weight",
        ),
        build=build_pan,
    ),
)
