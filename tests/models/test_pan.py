"""models/pan.py: the paper's parameter counts, the authors' key names (zhaohengyuan1/PAN, whose
`PANx{2,3,4}_DF2K.pth` must load as they are), output shapes, the bilinear skip, the settings it
refuses, and the layout's reading of the scale."""

import pytest
import torch
import torch.nn.functional as F

from srlab.models.pan import PAN
from srlab.ops.cost import count_parameters
from srlab.utils.errors import SRLabError
from srlab.weights.layouts import detect

TINY = {"n_feats": 8, "n_blocks": 2, "upsampler_feats": 4}
# The paper's Table: 272K parameters at x4 (the exact count of the authors' x4 net), 261K at x2
# and x3, which share one upsampling step.
PAPER_PARAMETERS = {2: 261_403, 3: 261_403, 4: 272_419}
# The authors' key names, as their PAN_arch.py registers its modules.
SCPA_KEYS = (
    "conv1_a.weight",
    "conv1_b.weight",
    "k1.0.weight",
    "PAConv.k2.weight",
    "PAConv.k2.bias",
    "PAConv.k3.weight",
    "PAConv.k4.weight",
    "conv3.weight",
)
STEP_KEYS = ("upconv{n}", "att{n}.conv", "HRconv{n}")  # each with .weight and .bias


def authors_keys(scale: int, n_blocks: int = 16) -> set[str]:
    convs = ["conv_first", "trunk_conv", "conv_last"]
    for step in (1, 2) if scale == 4 else (1,):
        convs += [key.format(n=step) for key in STEP_KEYS]
    keys = {f"{conv}.{tensor}" for conv in convs for tensor in ("weight", "bias")}
    return keys | {f"SCPA_trunk.{i}.{key}" for i in range(n_blocks) for key in SCPA_KEYS}


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_paper_size_has_the_papers_parameter_count(scale):
    with torch.device("meta"):
        assert count_parameters(PAN(scale=scale)) == PAPER_PARAMETERS[scale]


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_state_dict_has_the_authors_key_names_and_shapes(scale):
    with torch.device("meta"):
        state_dict = PAN(scale=scale).state_dict()
    assert set(state_dict) == authors_keys(scale)
    shapes = {key: tuple(value.shape) for key, value in state_dict.items()}
    assert shapes["conv_first.weight"] == (40, 3, 3, 3)
    assert shapes["SCPA_trunk.15.k1.0.weight"] == (20, 20, 3, 3)  # nf // 2 in each half
    assert shapes["SCPA_trunk.15.conv3.weight"] == (40, 40, 1, 1)
    assert shapes["upconv1.weight"] == (24, 40, 3, 3)
    assert shapes["conv_last.weight"] == (3, 24, 3, 3)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_scale_times_a_non_square_batch(scale):
    net = PAN(scale=scale, **TINY)
    assert net(torch.rand(2, 3, 7, 11)).shape == (2, 3, 7 * scale, 11 * scale)


@pytest.mark.parametrize(("global_skip", "mode"), [(False, "bilinear"), (True, "bicubic")])
def test_a_zero_last_conv_leaves_the_upscaled_input_bilinear_as_the_paper_or_bicubic(
    global_skip, mode
):
    net = PAN(scale=4, global_skip=global_skip, **TINY)
    torch.nn.init.zeros_(net.conv_last.weight)
    torch.nn.init.zeros_(net.conv_last.bias)
    x = torch.rand(2, 3, 6, 9)
    upscaled = F.interpolate(x, scale_factor=4, mode=mode, align_corners=False)
    torch.testing.assert_close(net(x), upscaled, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("settings", "key"),
    [({"n_feats": 1}, "model.n_feats"), ({"n_blocks": 0}, "model.n_blocks"), ({"scale": 8}, "8")],
)
def test_a_setting_that_builds_no_net_names_its_key(settings, key):
    with pytest.raises(SRLabError, match=key):
        PAN(**{**TINY, **settings})


def test_layout_reads_a_x4_net_from_its_two_upsampling_steps():
    converted = detect(PAN(scale=4, **TINY).state_dict())
    assert converted.layout == "PAN (zhaohengyuan1/PAN)"
    assert converted.net_config == {
        "_target_": "srlab.models.pan.PAN",
        "scale": 4,
        **TINY,
        "n_colors": 3,
    }


@pytest.mark.parametrize("scale", [2, 3])
def test_layout_takes_the_callers_scale_for_one_step_nets(scale):
    converted = detect(PAN(scale=2, **TINY).state_dict(), scale)  # x2 and x3: the same shapes
    assert converted.net_config["scale"] == scale


def test_layout_of_a_one_step_net_without_a_scale_asks_for_2_or_3():
    with pytest.raises(SRLabError, match="pass scale=2 or scale=3"):
        detect(PAN(scale=3, **TINY).state_dict())
