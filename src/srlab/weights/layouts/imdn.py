"""IMDN's layout (Zheng222/IMDN, saved from DataParallel: the `module.` prefix is stripped before
the layouts see the keys). srlab's IMDN keeps the authors' names; the weights take RGB in [0, 1].
"""

from __future__ import annotations

from typing import Any

from srlab.models.attention import scale_of_tail
from srlab.utils.errors import SRLabError
from srlab.weights.layouts.base import SAME_KEYS, Layout, StateDict, indices, shapes_only


def imdn_settings(state_dict: StateDict) -> dict[str, Any]:
    n_feats, n_colors = state_dict["fea_conv.weight"].shape[:2]
    distilled = state_dict["IMDB1.c4.weight"].shape[0]
    attention = state_dict["IMDB1.cca.conv_du.0.weight"].shape[0]  # CCA's squeezed channels
    distillation_rate = distilled / n_feats
    reduction = 4 * distilled // attention
    if int(n_feats * distillation_rate) != distilled or 4 * distilled // reduction != attention:
        raise SRLabError(
            f"these IMDN weights distil {distilled} of {n_feats} channels with {attention} in "
            "the attention: no distillation_rate and reduction of srlab's IMDN build that"
        )
    return {
        "scale": scale_of_tail(state_dict["upsampler.0.weight"], n_colors),
        "n_feats": n_feats,
        "n_blocks": len(indices(state_dict, r"IMDB(\d+)\.c1\.weight")),
        "distillation_rate": distillation_rate,
        "reduction": reduction,
        "n_colors": n_colors,
    }


LAYOUTS = (
    Layout(
        name="IMDN (Zheng222/IMDN)",
        target="srlab.models.imdn.IMDN",
        required=(
            "fea_conv.weight",
            "IMDB1.c4.weight",
            "IMDB1.cca.conv_du.0.weight",
            "c.0.weight",
            "LR_conv.weight",
            "upsampler.0.weight",
        ),
        rules=SAME_KEYS,
        build=shapes_only(imdn_settings),
    ),
)
