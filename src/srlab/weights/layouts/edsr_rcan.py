"""EDSR-PyTorch's, RCAN's and BasicSR's layouts of EDSR (srlab's ResNetSR) and RCAN.

The layouts of the EDSR and RCAN families (the key names of each are in its rules below):

| layout         | project                      | srlab net | input the weights were trained on |
| -------------- | ---------------------------- | --------- | --------------------------------- |
| EDSR-PyTorch   | EDSR-PyTorch (`.pt` files)   | ResNetSR  | 0-255, mean in `sub_mean.bias`    |
| RCAN           | RCAN's own code              | RCAN      | 0-255, mean in `sub_mean.bias`    |
| BasicSR EDSR   | BasicSR `edsr_arch.py`       | ResNetSR  | 0-1, `(x - mean) * 255` inside    |
| BasicSR RCAN   | BasicSR `rcan_arch.py`       | RCAN      | 0-1, `(x - mean) * 255` inside    |

All four compute `(x - mean) * 255` before the head (EDSR-PyTorch and RCAN on 0-255 input, the
same numbers), so the srlab net gets img_range=255 and computes exactly what the original did.
BasicSR keeps its mean out of the state dict: its default, DIV2K's, is used.

res_scale is not stored in the weights: it is the value the layout's published nets use.
EDSR-PyTorch publishes EDSR-baseline (16 x 64, res_scale 1) and EDSR (32 x 256, 0.1): 1 for
16 x 64, 0.1 for any other size. BasicSR's EDSR defaults to 1 and its EDSR_L (256 features)
uses 0.1: 0.1 above 64 features, else 1. RCAN's own code ignores res_scale and BasicSR's RCAN
uses 1: 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from srlab.models.blocks import DIV2K_RGB_MEAN, mean_buffer
from srlab.weights.layouts.base import (
    LEVELS,
    Build,
    Layout,
    Rules,
    StateDict,
    W,
    indices,
    read_mean_shift,
    scale_of_upsampler,
    without_mean_shift,
)

RESNET_SR = "srlab.models.resnet_sr.ResNetSR"
RCAN = "srlab.models.rcan.RCAN"


def edsr_pytorch_res_scale(sizes: dict[str, int]) -> float:
    """EDSR-baseline (16 x 64) is the one net EDSR-PyTorch publishes without residual scaling."""
    return 1.0 if (sizes["n_resblocks"], sizes["n_feats"]) == (16, 64) else 0.1


def basicsr_edsr_res_scale(sizes: dict[str, int]) -> float:
    """BasicSR's EDSR_L (256 features) scales by 0.1; EDSR_M (64) and the class default by 1."""
    return 0.1 if sizes["n_feats"] > 64 else 1.0


def unscaled(sizes: dict[str, int]) -> float:
    return 1.0


def mean_shift_build(target: str, res_scale: Callable[[dict[str, int]], float]) -> Build:
    """Sizes from the tensors, the mean from EDSR-PyTorch's MeanShift convs (DIV2K's for
    BasicSR), the published res_scale, and the body's {n_resblocks}/{n_resgroups} keys filled."""

    def build(state_dict: StateDict, scale: int | None) -> tuple[dict[str, Any], StateDict]:
        rgb_mean = read_rgb_mean(state_dict)
        weights = without_mean_shift(state_dict)
        sizes = SIZES[target](weights)
        weights = {key.format(**sizes): value for key, value in weights.items()}
        weights["rgb_mean"] = mean_buffer(rgb_mean, True, sizes["n_colors"])
        config = {
            **sizes,
            "res_scale": res_scale(sizes),
            "mean_shift": True,
            "rgb_mean": rgb_mean,
            "img_range": LEVELS,  # every layout here was trained on 0-255 levels
        }
        return config, weights

    return build


def edsr_pytorch_rules(*body: tuple[str, str]) -> Rules:
    """EDSR-PyTorch's frame, kept by RCAN's code: the mean shift (read into rgb_mean by the
    build), `head.0`, the body's own rules, then its last conv `body.<n>`, the upsampler
    `tail.0` and the last conv `tail.1`."""
    return (
        (rf"((sub|add)_mean\.{W})", r"\1"),
        (rf"head\.0\.{W}", r"head.\1"),
        *body,
        (rf"body\.(\d+)\.{W}", r"body.\1.\2"),
        (rf"tail\.0\.(\d+)\.{W}", r"upsample.\1.\2"),
        (rf"tail\.1\.{W}", r"tail.\1"),
    )


def basicsr_rules(*body: tuple[str, str], last_body_conv: str) -> Rules:
    """BasicSR's frame: `conv_first`, the body's own rules, `conv_after_body` (srlab's
    `last_body_conv`, its number filled by the build), `upsample` and `conv_last`."""
    return (
        (rf"conv_first\.{W}", r"head.\1"),
        *body,
        (rf"conv_after_body\.{W}", last_body_conv + r".\1"),
        (rf"upsample\.(\d+)\.{W}", r"upsample.\1.\2"),
        (rf"conv_last\.{W}", r"tail.\1"),
    )


RCAB = r"body\.(\d+)\.residual_group\.(\d+)\.rcab"  # BasicSR's RCAN: group, block
LAYOUTS = (
    Layout(
        name="EDSR-PyTorch",
        target=RESNET_SR,
        required=("sub_mean.bias", "head.0.weight", "body.0.body.0.weight", "tail.1.weight"),
        rules=edsr_pytorch_rules((rf"body\.(\d+)\.body\.([02])\.{W}", r"body.\1.body.\2.\3")),
        build=mean_shift_build(RESNET_SR, edsr_pytorch_res_scale),
    ),
    Layout(
        name="RCAN",
        target=RCAN,
        required=("sub_mean.bias", "head.0.weight", "body.0.body.0.body.3.conv_du.0.weight"),
        rules=edsr_pytorch_rules(
            (rf"body\.(\d+)\.body\.(\d+)\.body\.([02])\.{W}", r"body.\1.body.\2.body.\3.\4"),
            (
                rf"body\.(\d+)\.body\.(\d+)\.body\.3\.conv_du\.([02])\.{W}",
                r"body.\1.body.\2.body.3.gate.\3.\4",
            ),
            (rf"body\.(\d+)\.body\.(\d+)\.{W}", r"body.\1.body.\2.\3"),
        ),
        build=mean_shift_build(RCAN, unscaled),
    ),
    Layout(
        name="BasicSR EDSR",
        target=RESNET_SR,
        required=("conv_first.weight", "body.0.conv1.weight", "conv_last.weight"),
        rules=basicsr_rules(
            (rf"body\.(\d+)\.conv1\.{W}", r"body.\1.body.0.\2"),
            (rf"body\.(\d+)\.conv2\.{W}", r"body.\1.body.2.\2"),
            last_body_conv="body.{n_resblocks}",
        ),
        build=mean_shift_build(RESNET_SR, basicsr_edsr_res_scale),
    ),
    Layout(
        name="BasicSR RCAN",
        target=RCAN,
        required=(
            "conv_first.weight",
            "body.0.residual_group.0.rcab.3.attention.1.weight",
            "conv_last.weight",
        ),
        rules=basicsr_rules(
            (rf"{RCAB}\.([02])\.{W}", r"body.\1.body.\2.body.\3.\4"),
            # BasicSR's attention Sequential starts with its pool: its convs are 1 and 3.
            (rf"{RCAB}\.3\.attention\.1\.{W}", r"body.\1.body.\2.body.3.gate.0.\3"),
            (rf"{RCAB}\.3\.attention\.3\.{W}", r"body.\1.body.\2.body.3.gate.2.\3"),
            (rf"body\.(\d+)\.conv\.{W}", r"body.\1.body.{n_resblocks}.\2"),
            last_body_conv="body.{n_resgroups}",
        ),
        build=mean_shift_build(RCAN, unscaled),
    ),
)


def common_sizes(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    n_feats, n_colors = state_dict["head.weight"].shape[:2]
    return {
        "scale": scale_of_upsampler(state_dict, n_feats),
        "n_feats": n_feats,
        "n_colors": n_colors,
    }


def resnet_sr_sizes(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    n_resblocks = len(indices(state_dict, r"body\.(\d+)\.body\.0\.weight"))
    return {**common_sizes(state_dict), "n_resblocks": n_resblocks}


def rcan_sizes(state_dict: Mapping[str, torch.Tensor]) -> dict[str, int]:
    sizes = common_sizes(state_dict)
    squeezed = state_dict["body.0.body.0.body.3.gate.0.weight"].shape[0]
    return {
        **sizes,
        "n_resgroups": len(indices(state_dict, r"body\.(\d+)\.body\.0\.body\.0\.weight")),
        "n_resblocks": len(indices(state_dict, r"body\.0\.body\.(\d+)\.body\.0\.weight")),
        "reduction": sizes["n_feats"] // squeezed,
    }


SIZES = {RESNET_SR: resnet_sr_sizes, RCAN: rcan_sizes}


def read_rgb_mean(state_dict: Mapping[str, torch.Tensor]) -> list[float]:
    """EDSR-PyTorch's and RCAN's mean, from their MeanShift convs; BasicSR stores none: DIV2K's."""
    if "sub_mean.bias" not in state_dict:
        return list(DIV2K_RGB_MEAN)
    return read_mean_shift(state_dict, LEVELS)
