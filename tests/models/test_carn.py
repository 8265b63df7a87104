"""models/carn.py: the authors' parameter counts, output shapes, CARN-M's shared blocks, the
settings it refuses, and the authors' multi-scale CARN-M file (nmhkahn/CARN-pytorch): each
scale's upsampler picked, loaded strictly, scoring what srlab measured."""

import re

import pytest
import torch
import torch.nn.functional as F

from helpers.published import assert_scores, benchmark_scores, published_file, published_weights
from srlab.models.blocks import DIV2K_RGB_MEAN
from srlab.models.carn import CARN
from srlab.ops.cost import count_parameters
from srlab.utils.errors import SRLabError
from srlab.weights.layouts import detect
from srlab.weights.loading import load_net

CARN_M_FILE = "carn/carn_m.pth"
CARN_M = {"groups": 4, "mobile": True}
TINY = {"n_feats": 8, "n_blocks": 2, "n_resblocks": 2}
# The authors' MeanShift: two frozen 1x1 convs 3 -> 3 (srlab keeps the mean as config).
MEAN_SHIFT_PARAMETERS = 2 * (3 * 3 + 3)
CARN_M_FILE_PARAMETERS = 414_811  # one body, upsamplers for x2, x3, x4, the mean shift convs
CARN_PAPER_THOUSANDS = 1_592  # the paper's CARN (multi-scale), in thousands
# scale: Set5 PSNR / SSIM measured here by srlab's protocol. The paper's CARN-M has 37.53, 33.99,
# 31.92 dB: the authors' file is a later multi-scale training (larger batches and patches, group
# convs in the upsampler; the repository's README), 0.15, 0.07 and -0.04 dB from them.
MEASURED_SET5 = {2: (37.6817, 0.95949), 3: (34.0612, 0.92478), 4: (31.8847, 0.89098)}
SLOW = {2}  # over 20 s of CPU on Set5


def multi_scale_parameters(**settings) -> int:
    """A multi-scale file's count: one body, the x2, x3 and x4 upsamplers, the mean shift."""
    with torch.device("meta"):
        nets = {scale: CARN(scale=scale, **settings) for scale in (2, 3, 4)}
    body = count_parameters(nets[2]) - count_parameters(nets[2].upsample)
    upsamplers = sum(count_parameters(net.upsample) for net in nets.values())
    return body + upsamplers + MEAN_SHIFT_PARAMETERS


def in_the_authors_layout(body: CARN, upsamplers: dict[str, CARN]) -> dict[str, torch.Tensor]:
    """srlab CARNs saved as the authors save theirs: `body`'s weights, each net's upsampler as
    `upsample.<branch>.body.<i>`, the fusions as `c<k>.body.0`, the mean as two 1x1 convs."""
    state_dict = {
        re.sub(r"(c\d+)\.0\.", r"\1.body.0.", key): value
        for key, value in body.state_dict().items()
        if not key.startswith(("upsample.", "rgb_mean"))
    }
    for branch, net in upsamplers.items():
        upsampler = net.upsample.state_dict()
        state_dict |= {f"upsample.{branch}.body.{key}": value for key, value in upsampler.items()}
    identity, mean = torch.eye(3).view(3, 3, 1, 1), torch.tensor(DIV2K_RGB_MEAN)
    for name, bias in (("sub_mean", -mean), ("add_mean", mean)):
        state_dict |= {f"{name}.shifter.weight": identity, f"{name}.shifter.bias": bias}
    return state_dict


def test_carn_m_at_paper_size_has_the_parameters_of_the_authors_file():
    assert multi_scale_parameters(**CARN_M) == CARN_M_FILE_PARAMETERS


def test_carn_at_paper_size_has_the_papers_parameter_count():
    assert round(multi_scale_parameters() / 1000) == CARN_PAPER_THOUSANDS


@pytest.mark.parametrize("mobile", [False, True])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_scale_times_a_non_square_batch(mobile, scale):
    net = CARN(scale=scale, groups=4 if mobile else 1, mobile=mobile, **TINY)
    assert net(torch.rand(2, 3, 7, 11)).shape == (2, 3, 7 * scale, 11 * scale)


def test_carn_m_applies_one_residual_block_at_every_step_of_a_cascading_block():
    net = CARN(**CARN_M, n_resblocks=3)
    assert [name for name, _ in net.b1.named_children()] == ["b1", "c1", "c2", "c3"]
    assert net.b1.unit_names == ("b1", "b1", "b1")


def test_without_global_skip_a_zero_exit_gives_the_mean_and_with_it_the_bicubic_upscale():
    x = torch.rand(2, 3, 6, 9)
    for global_skip, expected in [
        (False, torch.tensor([0.4488, 0.4371, 0.4040]).view(1, 3, 1, 1).expand(2, 3, 18, 27)),
        (True, F.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False)),
    ]:
        net = CARN(scale=3, global_skip=global_skip, **TINY)
        torch.nn.init.zeros_(net.exit.weight)
        torch.nn.init.zeros_(net.exit.bias)
        torch.testing.assert_close(net(x), expected, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"groups": 3}, "model.groups"),  # 3 does not divide 8 features
        ({"n_resblocks": 0}, "model.n_resblocks"),
        ({"scale": 5}, "scale=5"),
    ],
)
def test_a_setting_that_builds_no_net_names_its_key(settings, key):
    with pytest.raises(SRLabError, match=key):
        CARN(**{**TINY, **settings})


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_layout_picks_the_asked_scales_upsampler_and_the_weights_load_strictly(scale):
    converted = detect(published_weights(CARN_M_FILE), scale)
    settings = {"scale": scale, "n_feats": 64, "n_blocks": 3, "n_resblocks": 3, **CARN_M}
    assert converted.net_config == {
        "_target_": "srlab.models.carn.CARN",
        **settings,
        "n_colors": 3,
        "mean_shift": True,
        "rgb_mean": [0.4488, 0.4371, 0.404],
    }
    CARN(**settings).load_state_dict(converted.state_dict, strict=True)


@pytest.mark.parametrize("mobile", [False, True])
def test_layout_takes_the_body_and_the_asked_upsampler_of_a_multi_scale_file(mobile):
    settings = {**TINY, "groups": 4 if mobile else 1, "mobile": mobile}
    nets = {scale: CARN(scale=scale, **settings) for scale in (2, 3, 4)}
    branches = {f"up{scale}": net for scale, net in nets.items()}
    converted = detect(in_the_authors_layout(nets[2], branches), 3)
    assert converted.net_config == {
        "_target_": "srlab.models.carn.CARN",
        "scale": 3,
        **settings,
        "n_colors": 3,
        "mean_shift": True,
        "rgb_mean": [0.4488, 0.4371, 0.404],
    }
    upsampler = {f"upsample.{key}": value for key, value in nets[3].upsample.state_dict().items()}
    expected = {**nets[2].state_dict(), **upsampler}  # x2's body, x3's upsampler
    assert converted.state_dict.keys() == expected.keys()
    assert all(torch.equal(converted.state_dict[key], value) for key, value in expected.items())


def test_layout_reads_the_scale_of_a_single_scale_file():
    net = CARN(scale=4, **TINY)
    converted = detect(in_the_authors_layout(net, {"up": net}))
    assert converted.net_config["scale"] == 4
    CARN(scale=4, **TINY).load_state_dict(converted.state_dict, strict=True)


def test_multi_scale_file_without_a_scale_asks_for_one():
    with pytest.raises(SRLabError, match=r"pass scale=2\|3\|4"):
        detect(published_weights(CARN_M_FILE))


@pytest.mark.parametrize(
    "scale",
    [pytest.param(scale, marks=[pytest.mark.slow] * (scale in SLOW)) for scale in (2, 3, 4)],
)
def test_authors_weights_score_what_srlab_measured(scale):
    net = load_net(published_file(CARN_M_FILE), scale=scale)  # as srlab.eval loads it
    assert isinstance(net, CARN) and net.scale == scale
    assert_scores(benchmark_scores(net, scale), *MEASURED_SET5[scale])
