"""models/rfdn.py: the AIM 2020 model's parameter count, output shapes, ESA, and the authors'
weights (njulj/RFDN `RFDN_AIM.pth`), loaded strictly, scoring Set5 on 0-255 input."""

import pytest
import torch
import torch.nn.functional as F

from helpers.published import assert_scores, benchmark_scores, published_file, published_weights
from srlab.models.attention import ESA, ESA_MIN_SIZE
from srlab.models.rfdn import RFDN
from srlab.ops.cost import count_parameters
from srlab.utils.errors import SRLabError
from srlab.weights.layouts import detect
from srlab.weights.loading import load_net

AIM_FILE = "rfdn/RFDN_AIM.pth"
TINY = {"n_feats": 8, "n_blocks": 2, "esa_channels": 4}
LR = (2, 3, 17, 19)  # ESA needs 15 x 15 pixels at least
AIM_PARAMETERS = 433_448  # the authors' file (published README)
# Set5 x4 (PSNR dB, SSIM) measured here by srlab's protocol. The paper gives no number for the
# AIM model (its RFDN, 550K parameters: 32.24 dB).
MEASURED_SET5 = (32.1607, 0.89459)


def test_default_is_the_aim_model_with_the_authors_parameter_count():
    with torch.device("meta"):
        assert count_parameters(RFDN()) == AIM_PARAMETERS


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_scale_times_a_non_square_batch(scale):
    net = RFDN(scale=scale, **TINY)
    batch, _, height, width = LR
    assert net(torch.rand(LR)).shape == (batch, 3, height * scale, width * scale)


def test_global_skip_with_a_zero_tail_is_exactly_the_bicubic_upscale():
    net = RFDN(scale=2, global_skip=True, img_range=255.0, **TINY)
    torch.nn.init.zeros_(net.upsampler[0].weight)
    torch.nn.init.zeros_(net.upsampler[0].bias)
    x = torch.rand(LR)
    bicubic = F.interpolate(x, scale_factor=2, mode="bicubic", align_corners=False)
    torch.testing.assert_close(net(x), bicubic, rtol=0, atol=0)


def test_esa_gate_is_one_half_where_its_last_conv_is_zero():
    """sigmoid(0) = 1/2 whatever the context: the gate multiplies, it adds nothing."""
    attention = ESA(8, 4)
    torch.nn.init.zeros_(attention.conv4.weight)
    torch.nn.init.zeros_(attention.conv4.bias)
    x = torch.rand(2, 8, 16, 20)
    torch.testing.assert_close(attention(x), x / 2)


def test_an_input_smaller_than_esa_can_pool_says_the_minimum():
    with pytest.raises(SRLabError, match=f"{ESA_MIN_SIZE}x{ESA_MIN_SIZE}"):
        RFDN(scale=2, **TINY)(torch.rand(1, 3, ESA_MIN_SIZE - 1, 40))


@pytest.mark.parametrize(
    ("setting", "key"),
    [({"n_feats": 1}, "model.n_feats"), ({"esa_channels": 0}, "model.esa_channels")],
)
def test_a_size_that_builds_no_net_names_its_key(setting, key):
    with pytest.raises(SRLabError, match=key):
        RFDN(**{**TINY, **setting})


def test_authors_weights_load_strictly_into_the_default_net():
    RFDN().load_state_dict(published_weights(AIM_FILE), strict=True)


def test_layout_reads_the_aim_settings_and_the_0_255_range():
    converted = detect(published_weights(AIM_FILE))
    assert converted.net_config == {
        "_target_": "srlab.models.rfdn.RFDN",
        "scale": 4,
        "n_feats": 50,
        "n_blocks": 4,
        "esa_channels": 12,
        "n_colors": 3,
        "img_range": 255.0,
    }


def test_authors_weights_score_what_was_measured_on_set5():
    net = load_net(published_file(AIM_FILE))  # the layout, as srlab.eval loads it
    assert isinstance(net, RFDN) and net.scale == 4
    assert_scores(benchmark_scores(net, 4), *MEASURED_SET5)
