"""SRCNN's MATLAB release (SRCNN_v1, as in WangDequan/SRCNN: `srcnn_955_imagenet_x3.mat`), read
by srlab.weights.matlab.

Each layer's k x k filters are stored flattened in MATLAB's column-major order, k^2 values along
one dimension: `weights_conv1` (k^2, out), `weights_conv2` (in, k^2, out), `weights_conv3`
(in, k^2); `biases_conv*` (out, 1). The test code (SRCNN.m) reshapes each to k x k and filters
with `imfilter(..., 'same', 'replicate')`, a correlation with replicated borders, on the Y
channel: srlab's SRCNN with padding="replicate".

The files record no scale; the authors train one per scale and name it in the file name (`_x3`).
The scale asked for is used, else x3, the scale of the file srlab is tested with.

Filters reshaped row by row (transposed) would be the same net run on the transposed image, and
score within 0.01 dB of the right one: tests/models/test_srcnn.py checks the orientation against
a NumPy transcription of the authors' SRCNN.m instead.
"""

from __future__ import annotations

import math
from typing import Any

from torch import Tensor

from srlab.utils.errors import SRLabError
from srlab.weights.layouts.base import Layout, StateDict, indices

SRCNN = "srlab.models.srcnn.SRCNN"
FILE_SCALE = 3  # srcnn_955_imagenet_x3.mat


def build(state_dict: StateDict, scale: int | None) -> tuple[dict[str, Any], StateDict]:
    layers = indices(state_dict, r"body\.conv(\d+)\.weight")
    weights: StateDict = {}
    for layer in layers:
        key = f"body.conv{layer}"
        flat = state_dict[f"{key}.weight"]
        if layer == layers[0] and flat.ndim == 2:  # (k^2, out): one input channel, Y
            flat = flat.unsqueeze(0)
        elif layer == layers[-1] and flat.ndim == 2:  # (in, k^2): one output channel
            flat = flat.unsqueeze(-1)
        weights[f"{key}.weight"] = column_major_filters(flat, key)
        weights[f"{key}.bias"] = state_dict[f"{key}.bias"].flatten()
    shapes = [weights[f"body.conv{layer}.weight"].shape for layer in layers]
    config = {
        "scale": FILE_SCALE if scale is None else scale,
        "kernel_sizes": [shape[-1] for shape in shapes],
        "n_feats": [shape[0] for shape in shapes[:-1]],
        "channels": "y",
        "padding": "replicate",
    }
    return config, weights


def column_major_filters(flat: Tensor, key: str) -> Tensor:
    """(in, k^2, out), each filter flattened column by column -> torch's (out, in, k, k)."""
    n_in, n_taps, n_out = flat.shape
    size = math.isqrt(n_taps)
    if size * size != n_taps:
        raise SRLabError(
            f"SRCNN weights of {key} have {n_taps} taps per filter, not a square k x k; pass the "
            "weights file of an SRCNN (SRCNN_v1 release)"
        )
    # Reshaped row by row, the taps land transposed: MATLAB's reshape fills column by column.
    return flat.permute(2, 0, 1).reshape(n_out, n_in, size, size).transpose(-1, -2).contiguous()


LAYOUTS = (
    Layout(
        name="SRCNN (MATLAB, SRCNN_v1)",
        target=SRCNN,
        required=("weights_conv1", "biases_conv1"),
        rules=(
            (r"weights_conv(\d+)", r"body.conv\1.weight"),
            (r"biases_conv(\d+)", r"body.conv\1.bias"),
        ),
        build=build,
    ),
)
