"""models/imdn.py: the paper's parameter counts, output shapes, the contrast-aware attention, and
the authors' weights (Zheng222/IMDN), loaded strictly, scoring the paper's Set5 numbers."""

import pytest
import torch
import torch.nn.functional as F

from helpers.published import assert_scores, benchmark_scores, published_file, published_weights
from srlab.models.attention import CCA
from srlab.models.imdn import IMDN
from srlab.ops.cost import count_parameters
from srlab.utils.errors import SRLabError
from srlab.weights.layouts import detect
from srlab.weights.loading import load_net

TINY = {"n_feats": 8, "n_blocks": 2, "reduction": 4}
PAPER_PARAMETERS = {2: 694_404, 3: 703_059, 4: 715_176}  # the authors' files (published README)
# Set5 (PSNR dB, SSIM): measured here by srlab's protocol, and the paper's Table (x2 also in the
# authors' README: 38.00 / 0.9605).
MEASURED_SET5 = {2: (37.9966, 0.96049), 3: (34.3624, 0.92698), 4: (32.2114, 0.89478)}
PAPER_SET5 = {2: (38.00, 0.9605), 3: (34.36, 0.9270), 4: (32.21, 0.8948)}


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_paper_size_has_the_authors_parameter_count(scale):
    with torch.device("meta"):
        assert count_parameters(IMDN(scale=scale)) == PAPER_PARAMETERS[scale]


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_scale_times_a_non_square_batch(scale):
    net = IMDN(scale=scale, **TINY)
    assert net(torch.rand(2, 3, 7, 11)).shape == (2, 3, 7 * scale, 11 * scale)


def test_global_skip_with_a_zero_tail_is_exactly_the_bicubic_upscale():
    net = IMDN(scale=3, global_skip=True, **TINY)
    torch.nn.init.zeros_(net.upsampler[0].weight)
    torch.nn.init.zeros_(net.upsampler[0].bias)
    x = torch.rand(2, 3, 6, 9)
    bicubic = F.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False)
    torch.testing.assert_close(net(x), bicubic, rtol=0, atol=0)


def test_cca_gates_each_channel_by_its_standard_deviation_plus_its_mean():
    torch.manual_seed(0)
    attention = CCA(8, reduction=4)
    x = torch.rand(2, 8, 5, 7)
    contrast = x.var(dim=(2, 3), keepdim=True, unbiased=False).sqrt()  # divided by H * W
    expected = x * attention.conv_du(contrast + x.mean(dim=(2, 3), keepdim=True))
    torch.testing.assert_close(attention(x), expected)


@pytest.mark.parametrize(
    ("setting", "key"),
    [({"n_feats": 0}, "model.n_feats"), ({"distillation_rate": 0.01}, "model.distillation_rate")],
)
def test_a_size_that_builds_no_net_names_its_key(setting, key):
    with pytest.raises(SRLabError, match=key):
        IMDN(**{**TINY, **setting})


def test_a_reduction_that_empties_the_attention_names_its_key():
    with pytest.raises(SRLabError, match="model.reduction"):
        IMDN(n_feats=8, n_blocks=1, reduction=16)  # CCA squeezes 8 channels to 8 // 16 = 0


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_authors_weights_load_strictly_into_the_paper_size(scale):
    net = IMDN(scale=scale)
    net.load_state_dict(published_weights(f"imdn/IMDN_x{scale}.pth"), strict=True)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_layout_reads_the_paper_settings_from_the_authors_weights(scale):
    converted = detect(published_weights(f"imdn/IMDN_x{scale}.pth"))
    assert converted.net_config == {
        "_target_": "srlab.models.imdn.IMDN",
        "scale": scale,
        "n_feats": 64,
        "n_blocks": 6,
        "distillation_rate": 0.25,
        "reduction": 16,
        "n_colors": 3,
    }


# x3 costs ~5 s of CPU; its weights' loading and layout are checked above in the fast suite.
@pytest.mark.parametrize("scale", [2, pytest.param(3, marks=pytest.mark.slow), 4])
def test_authors_weights_score_the_papers_set5_numbers(scale):
    net = load_net(published_file(f"imdn/IMDN_x{scale}.pth"))  # as srlab.eval loads it
    assert isinstance(net, IMDN) and net.scale == scale
    scores = benchmark_scores(net, scale)
    assert_scores(scores, *MEASURED_SET5[scale])
    assert_scores(scores, *PAPER_SET5[scale])
