"""RLFN's layout (bytedance/RLFN: RLFN, RLFN-S and the NTIRE 2022 challenge model, which are
sizes of one net). srlab's RLFN keeps the authors' names. The weights were trained on RGB 0-255
levels (Set5 x2 of `rlfn_x2.pth`: 38.07 dB so, the paper's), hence img_range=255.
"""

from __future__ import annotations

from typing import Any

from srlab.models.attention import scale_of_tail
from srlab.weights.layouts.base import SAME_KEYS, Layout, StateDict, indices, shapes_only

IMG_RANGE = 255.0


def rlfn_settings(state_dict: StateDict) -> dict[str, Any]:
    n_feats, n_colors = state_dict["conv_1.weight"].shape[:2]
    return {
        "scale": scale_of_tail(state_dict["upsampler.0.weight"], n_colors),
        "n_feats": n_feats,
        "mid_channels": state_dict["block_1.c1_r.weight"].shape[0],
        "n_blocks": len(indices(state_dict, r"block_(\d+)\.c1_r\.weight")),
        "esa_channels": state_dict["block_1.esa.conv1.weight"].shape[0],
        "n_colors": n_colors,
        "img_range": IMG_RANGE,
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
        rules=SAME_KEYS,
        build=shapes_only(rlfn_settings),
    ),
)
