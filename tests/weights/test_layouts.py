"""weights/layouts: other projects' weights (shared/data/interop) load into srlab's nets and
give those projects' own outputs."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from conftest import SHARED_DATA
from srlab.data.io import read_image
from srlab.ops.pixels import hwc, to_float
from srlab.utils.errors import SRLabError
from srlab.weights.layouts import detect, unwrap
from srlab.weights.layouts.edsr_rcan import basicsr_edsr_res_scale, edsr_pytorch_res_scale

INTEROP = SHARED_DATA / "interop"
FIXTURES = {
    "edsr_official_r16f64x2": "EDSR-PyTorch",
    "edsr_official_r4f24x3": "EDSR-PyTorch",
    "rcan_official_g2b3f16x2": "RCAN",
    "edsr_basicsr_b4f16x2": "BasicSR EDSR",
    "rcan_basicsr_g2b2f16x2": "BasicSR RCAN",
}
SIZES = ("scale", "n_resgroups", "n_resblocks", "n_feats", "reduction", "res_scale")


def fixture(name: str) -> tuple[dict, dict]:
    """(what torch.load gives, the fixture's description)"""
    if not INTEROP.is_dir():
        pytest.skip(f"{INTEROP} not found: tests read ../shared/data")
    weights = torch.load(INTEROP / f"{name}.pth", map_location="cpu", weights_only=True)
    return weights, json.loads((INTEROP / f"{name}.json").read_text())


@pytest.mark.parametrize(("name", "layout"), FIXTURES.items())
def test_sizes_are_read_from_the_tensors(name, layout):
    weights, meta = fixture(name)
    converted = detect(unwrap(weights))
    assert converted.layout == layout
    for key in SIZES:
        if key in meta:
            assert converted.net_config[key] == meta[key], key
    assert converted.net_config["rgb_mean"] == meta["rgb_mean"]
    net = instantiate(converted.net_config)
    assert sum(p.numel() for p in net.parameters()) == meta["parameters"]


@pytest.mark.parametrize("name", FIXTURES)
def test_converted_net_gives_the_original_projects_output(name):
    weights, _ = fixture(name)
    converted = detect(unwrap(weights))
    net = instantiate(converted.net_config)
    net.load_state_dict(converted.state_dict, strict=True)
    lr = to_float(read_image(INTEROP / f"{name}.input.png"))[None]
    with torch.no_grad():
        output = hwc(net.eval()(lr)[0])
    reference = np.load(INTEROP / f"{name}.output.npy")
    assert output.shape == reference.shape
    # Levels unclamped: a wrong net must not hide behind the [0, 1] clip.
    off = np.abs(np.round(255 * output) - np.round(255 * reference))
    assert (off == 0).mean() >= 0.999  # float rounding flips a level where x * 255 ends in .5
    assert off.max() <= 1


def test_unknown_layout_names_the_stray_keys_and_the_layouts_tried():
    weights, _ = fixture("edsr_basicsr_b4f16x2")
    # BasicSR's MSRResNet: EDSR's names but for its upsampler and last convs.
    state_dict = {key.replace("upsample.0", "upconv1"): v for key, v in weights["params"].items()}
    with pytest.raises(SRLabError) as error:
        detect(state_dict)
    message = str(error.value)
    assert "upconv1.weight" in message and "upconv1.bias" in message
    for layout in FIXTURES.values():
        assert layout in message


def test_unrelated_state_dict_names_its_keys():
    with pytest.raises(SRLabError, match=r"fc\.weight"):
        detect({"fc.weight": torch.zeros(10, 4), "fc.bias": torch.zeros(10)})


def test_groups_of_unequal_length_are_named_not_loaded():
    weights, _ = fixture("rcan_official_g2b3f16x2")
    state_dict = {key: v for key, v in weights.items() if not key.startswith("body.1.body.2.")}
    with pytest.raises(SRLabError, match=r"do not form one RCAN.*body\.1\.body\.2"):
        detect(state_dict)


@pytest.mark.parametrize(
    ("rule", "n_resblocks", "n_feats", "res_scale"),
    [
        # EDSR-PyTorch: only EDSR-baseline's 16 x 64 is unscaled; same width or depth is not enough
        (edsr_pytorch_res_scale, 16, 64, 1.0),
        (edsr_pytorch_res_scale, 32, 64, 0.1),
        (edsr_pytorch_res_scale, 16, 256, 0.1),
        (edsr_pytorch_res_scale, 32, 256, 0.1),
        # BasicSR: the width decides (EDSR_M 64 -> 1, EDSR_L 256 -> 0.1), not the depth
        (basicsr_edsr_res_scale, 32, 64, 1.0),
        (basicsr_edsr_res_scale, 16, 256, 0.1),
        (basicsr_edsr_res_scale, 32, 256, 0.1),
    ],
)
def test_published_res_scale_rules_at_sizes_where_a_wrong_rule_differs(
    rule, n_resblocks, n_feats, res_scale
):
    assert rule({"n_resblocks": n_resblocks, "n_feats": n_feats}) == res_scale


def test_unwrap_prefers_basicsr_ema_weights():
    ema, plain = {"conv_first.weight": torch.ones(1)}, {"conv_first.weight": torch.zeros(1)}
    assert unwrap({"params": plain, "params_ema": ema})["conv_first.weight"].item() == 1
    assert unwrap({"params": plain}) == plain
    assert unwrap(plain) == plain
    assert unwrap({f"module.{key}": value for key, value in plain.items()}) == plain


@pytest.mark.parametrize("obj", [[torch.zeros(1)], {"epoch": 3, "optimizer": {}}])
def test_unwrap_of_something_else_is_an_error(obj):
    with pytest.raises(SRLabError, match="not a state dict"):
        unwrap(obj)


def test_a_layout_check_in_a_fresh_process_leaves_import_time_constants_real(shared_data):
    # check_fits builds the net on the meta device: a module first imported inside it (the
    # colour matrices of ops/color, imported by VDSR) must not keep meta tensors.
    script = (
        "import torch; from srlab.weights.loading import load_net; "
        f"net = load_net({str(shared_data / 'published/vdsr/VDSR_Official.mat')!r}, 2); "
        "print(tuple(net(torch.rand(1, 3, 8, 8)).shape))"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-500:]
    assert result.stdout.strip() == "(1, 3, 16, 16)"
