"""RFDN's layout (njulj/RFDN: the AIM 2020 challenge model, RFDN and RFDN-L). srlab's RFDN keeps
the authors' names. The weights were trained on RGB 0-255 levels (Set5 x4 of `RFDN_AIM.pth`:
32.16 dB so, 26.02 dB fed 0-1), hence img_range=255.
"""

from __future__ import annotations

from typing import Any

from srlab.weights.layouts.base import LEVELS, Layout, StateDict, shapes_only, shuffle_tail_sizes


def rfdn_settings(state_dict: StateDict) -> dict[str, Any]:
    return {
        **shuffle_tail_sizes(state_dict, "fea_conv.weight", r"B(\d+)\.c1_d\.weight"),
        "esa_channels": state_dict["B1.esa.conv1.weight"].shape[0],
        "img_range": LEVELS,
    }


LAYOUTS = (
    Layout(
        name="RFDN (njulj/RFDN)",
        target="srlab.models.rfdn.RFDN",
        required=(
            "fea_conv.weight",
            "B1.c1_d.weight",
            "B1.c1_r.weight",  # BSRN's is a BSConv: B1.c1_r.pw.weight
            "B1.esa.conv_max.weight",
            "c.0.weight",
            "LR_conv.weight",
            "upsampler.0.weight",
        ),
        build=shapes_only(rfdn_settings),
    ),
)
