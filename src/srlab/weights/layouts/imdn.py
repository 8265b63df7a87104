"""IMDN's layout (Zheng222/IMDN, saved from DataParallel: the `module.` prefix is stripped before
the layouts see the keys). srlab's IMDN keeps the authors' names; the weights take RGB in [0, 1].
"""

from __future__ import annotations

from typing import Any

from srlab.utils.errors import SRLabError
from srlab.weights.layouts.base import Layout, StateDict, shapes_only, shuffle_tail_sizes


def imdn_settings(state_dict: StateDict) -> dict[str, Any]:
    sizes = shuffle_tail_sizes(state_dict, "fea_conv.weight", r"IMDB(\d+)\.c1\.weight")
    n_feats = sizes["n_feats"]
    distilled = state_dict["IMDB1.c4.weight"].shape[0]
    attention = state_dict["IMDB1.cca.conv_du.0.weight"].shape[0]  # CCA's squeezed channels
    distillation_rate = distilled / n_feats
    reduction = 4 * distilled // attention
    if int(n_feats * distillation_rate) != distilled or 4 * distilled // reduction != attention:
        raise SRLabError(
            f"these IMDN weights distil {distilled} of {n_feats} channels with {attention} in "
            "the attention: no distillation_rate and reduction of srlab's IMDN build that"
        )
    return {**sizes, "distillation_rate": distillation_rate, "reduction": reduction}


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
        build=shapes_only(imdn_settings),
    ),
)
