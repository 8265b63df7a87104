"""models/bsrn.py: the authors' parameter counts, output shapes, the settings it refuses, and the
authors' weights (xiaom233/BSRN), loaded strictly, scoring what srlab measured and the paper."""

import pytest
import torch
import torch.nn.functional as F

from helpers.published import assert_scores, benchmark_scores, published_file, published_weights
from srlab.models.bsrn import BSRN
from srlab.ops.cost import count_parameters
from srlab.utils.errors import SRLabError
from srlab.weights.layouts import detect
from srlab.weights.loading import load_net

BSRN_S = {"variant": "bsrn_s", "n_feats": 48, "n_blocks": 5}
TINY = {"bsrn": {"n_feats": 16, "n_blocks": 2}, "bsrn_s": {"n_feats": 8, "n_blocks": 2}}
LR_SIZE = (15, 17)  # ESA pools a 7x7 window of a stride-2 conv: 15 pixels is the least
# file: (scale, BSRN kwargs, parameters in the file, Set5 PSNR / SSIM measured here by srlab's
# protocol, the paper's Set5 PSNR (Li et al. 2022))
FILES = {
    "net_g_BSRN_x2.pth": (2, {}, 331_628, (38.0840, 0.96084), 38.10),
    "net_g_BSRN_x3.pth": (3, {}, 340_283, (34.4523, 0.92763), 34.46),
    "net_g_BSRN_x4.pth": (4, {}, 352_400, (32.3501, 0.89652), 32.35),
    "net_g_BSRN-S.pth": (4, BSRN_S, 156_288, (32.1628, 0.89488), 32.16),
}
SLOW = {"net_g_BSRN_x2.pth", "net_g_BSRN_x3.pth"}  # over 20 s of CPU each on Set5


@pytest.mark.parametrize("name", FILES)
def test_paper_size_has_the_authors_parameter_count(name):
    scale, settings, parameters, _, _ = FILES[name]
    with torch.device("meta"):
        assert count_parameters(BSRN(scale=scale, **settings)) == parameters


@pytest.mark.parametrize("variant", ["bsrn", "bsrn_s"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_scale_times_a_non_square_batch(variant, scale):
    net = BSRN(scale=scale, variant=variant, **TINY[variant])
    height, width = LR_SIZE
    assert net(torch.rand(2, 3, height, width)).shape == (2, 3, height * scale, width * scale)


def test_global_skip_with_a_zero_tail_is_exactly_the_bicubic_upscale():
    net = BSRN(scale=3, global_skip=True, **TINY["bsrn"])
    torch.nn.init.zeros_(net.upsampler[0].weight)
    torch.nn.init.zeros_(net.upsampler[0].bias)
    x = torch.rand(2, 3, *LR_SIZE)
    bicubic = F.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False)
    torch.testing.assert_close(net(x), bicubic, rtol=0, atol=0)


def test_the_net_says_it_takes_rgb_though_its_head_sees_the_input_four_times():
    net = BSRN(**TINY["bsrn"])
    assert net.fea_conv.pw.in_channels == 12 and net.input_channels == 3


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"n_feats": 8}, "model.n_feats"),  # CCA would squeeze 8 channels to 8 // 16 = 0
        ({"variant": "bsrn_s", "n_feats": 3}, "model.n_feats"),  # ESA: 3 // 4 = 0
        ({"n_blocks": 0}, "model.n_blocks"),
        ({"variant": "bsrn_l"}, "model.variant"),
        ({"scale": 1}, "scale=1"),
    ],
)
def test_a_setting_that_builds_no_net_names_its_key(settings, key):
    with pytest.raises(SRLabError, match=key):
        BSRN(**{**TINY["bsrn"], **settings})


def test_an_input_smaller_than_the_attention_pools_names_the_least_size():
    with pytest.raises(SRLabError, match="15x15"):
        BSRN(**TINY["bsrn"])(torch.rand(1, 3, 14, 20))


@pytest.mark.parametrize("name", FILES)
def test_layout_reads_the_settings_and_the_weights_load_strictly(name):
    scale, settings, _, _, _ = FILES[name]
    converted = detect(published_weights(f"bsrn/{name}"))
    expected = {"scale": scale, "n_feats": 64, "n_blocks": 8, "variant": "bsrn", **settings}
    assert converted.net_config == {"_target_": "srlab.models.bsrn.BSRN", **expected, "n_colors": 3}
    BSRN(**expected).load_state_dict(converted.state_dict, strict=True)


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=[pytest.mark.slow] * (name in SLOW)) for name in FILES]
)
def test_authors_weights_score_what_srlab_measured_and_the_paper(name):
    scale, settings, _, measured, paper = FILES[name]
    net = load_net(published_file(f"bsrn/{name}"))  # the layout, as srlab.eval loads it
    assert isinstance(net, BSRN) and net.scale == scale
    scores = benchmark_scores(net, scale)
    assert_scores(scores, *measured)
    assert_scores(scores, paper)
