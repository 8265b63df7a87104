"""VDSR's MATLAB release: `VDSR_Official.mat` of huangzehao/caffe-vdsr (the authors' model,
converted), read by srlab.weights.matlab.

`model.weight{i}` are MatConvNet filters, (rows, columns, in, out), with the last layer's
trailing out = 1 dropped by MATLAB: (3, 3, 64); `model.bias{i}` are (out, 1). The test code runs
them with `vl_nnconv(..., 'Pad', 1)`, a correlation over (rows, columns) as torch's conv2d, ReLU
between, on the Y channel, and adds the input. One net serves every scale: the scale is the one
asked for.

Filters transposed would be the same net run on the transposed image, and score within 0.02 dB of
the right one: tests/models/test_vdsr.py checks the orientation against a NumPy transcription of
the authors' VDSR_Matconvnet.m instead.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from srlab.utils.errors import SRLabError
from srlab.weights.layouts.base import Layout, StateDict, indices

VDSR = "srlab.models.vdsr.VDSR"


def build(state_dict: StateDict, scale: int | None) -> tuple[dict[str, Any], StateDict]:
    if scale is None:
        raise SRLabError(
            "VDSR's weights serve every scale (the paper tests x2, x3 and x4 with one net) and "
            "record none: pass scale=2, 3 or 4"
        )
    weights = {
        key: matconvnet_filters(value) if key.endswith(".weight") else value.flatten()
        for key, value in state_dict.items()
    }
    first = weights["body.conv1.weight"]  # (n_feats, image channels, 3, 3)
    config = {
        "scale": scale,
        "n_layers": len(indices(weights, r"body\.conv(\d+)\.weight")),
        "n_feats": first.shape[0],
        "channels": "rgb" if first.shape[1] == 3 else "y",
    }
    return config, weights


def matconvnet_filters(weight: Tensor) -> Tensor:
    """MatConvNet (rows, columns, in[, out]) -> torch's (out, in, rows, columns)."""
    while weight.ndim < 4:  # MATLAB drops trailing singleton dimensions: out = 1
        weight = weight.unsqueeze(-1)
    return weight.permute(3, 2, 0, 1).contiguous()


LAYOUTS = (
    Layout(
        name="VDSR (MATLAB, huangzehao/caffe-vdsr)",
        target=VDSR,
        required=("model.weight{1}", "model.bias{1}"),
        rules=((r"model\.(weight|bias)\{(\d+)\}", r"body.conv\2.\1"),),
        build=build,
    ),
)
