"""RLFN's layout (bytedance/RLFN: RLFN, RLFN-S and the NTIRE 2022 challenge model, which are
sizes of one net). srlab's RLFN keeps the authors' names. The weights were trained on RGB 0-255
levels (Set5 x2 of `rlfn_x2.pth`: 38.07 dB so, the paper's), hence img_range=255.
"""

from __future__ import annotations

from typing import Any

from srlab.weights.layouts.base import LEVELS, Layout, StateDict, shapes_only, shuffle_tail_sizes


def rlfn_settings(state_dict: StateDict) -> dict[str, Any]:
    sizes = shuffle_tail_sizes(state_dict, "conv_1.weight", r"block_(\d+)\.c1_r\.weight")
    mid_channels = state_dict["block_1.c1_r.weight"].shape[0]
    return {
        **sizes,
        # null (= n_feats) as conf/model/rlfn.yaml says it, so that init_weights finds no
        # difference where there is none; the NTIRE model's 48 inside 46 is given
        "mid_channels": None if mid_channels == sizes["n_feats"] else mid_channels,
        "esa_channels": state_dict["block_1.esa.conv1.weight"].shape[0],
        "img_range": LEVELS,
    }


LAYOUTS = (
    Layout(
        name="RLFN (bytedance/RLFN)",
        target="srlab.models.rlfn.RLFN",
        required=(
            "conv_1.weight",
            "block_1.c1_r.weight",
            "block_1.c5.weight",
            "block_1.esa.conv1.weight",
            "conv_2.weight",
            "upsampler.0.weight",
        ),
        build=shapes_only(rlfn_settings),
    ),
)
