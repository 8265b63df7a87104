"""BSRN's layouts (xiaom233/BSRN, BasicSR `{"params": ...}` files): BSRN and BSRN-S.

srlab's BSRN keeps the authors' names; only the upsampler's conv moves, from
`upsampler.upsampleOneStep.0` to `upsampler.0`. BSRN-S (`net_g_BSRN-S.pth`) writes its 1x1 convs
as `nn.Linear` over the channels: (out, in) weights, made (out, in, 1, 1) here; its channel
weights `cw` (1, C) become (1, C, 1, 1).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from srlab.models.bsrn import INPUT_COPIES
from srlab.weights.layouts.base import (
    SAME_KEYS,
    Layout,
    StateDict,
    W,
    shapes_only,
    shuffle_tail_sizes,
)

BSRN = "srlab.models.bsrn.BSRN"
RULES = ((rf"upsampler\.upsampleOneStep\.0\.{W}", r"upsampler.0.\1"), *SAME_KEYS)


def bsrn_settings(state_dict: StateDict, variant: str) -> dict[str, Any]:
    head, blocks = "fea_conv.pw.weight", r"B(\d+)\.c1_d\.weight"  # the head sees the input 4x
    return {**shuffle_tail_sizes(state_dict, head, blocks, INPUT_COPIES), "variant": variant}


def build_bsrn_s(state_dict: StateDict, scale: int | None) -> tuple[dict[str, Any], StateDict]:
    # Linear layers over the channels are 1x1 convs; cw scales each channel.
    weights = {k: v[..., None, None] if v.ndim == 2 else v for k, v in state_dict.items()}
    return bsrn_settings(weights, "bsrn_s"), weights


LAYOUTS = (
    Layout(
        name="BSRN (xiaom233/BSRN)",
        target=BSRN,
        required=(
            "fea_conv.pw.weight",
            "B1.cca.conv_du.0.weight",
            "upsampler.upsampleOneStep.0.weight",
        ),
        rules=RULES,
        build=shapes_only(partial(bsrn_settings, variant="bsrn")),
    ),
    Layout(
        name="BSRN-S (xiaom233/BSRN)",
        target=BSRN,
        required=(
            "fea_conv.pw.weight",
            "B1.cw",
            "B1.conv_out.weight",
            "upsampler.upsampleOneStep.0.weight",
        ),
        rules=RULES,
        build=build_bsrn_s,
    ),
)
