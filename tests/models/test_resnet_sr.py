"""models/resnet_sr.py: output shapes, EDSR-baseline size, the long skip and the body residual."""

import re

import pytest
import torch
import torch.nn.functional as F
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from torch import nn

from srlab.models.rcan import RCAN
from srlab.models.resnet_sr import ResNetSR
from srlab.models.srresnet import SRResNet
from srlab.ops.cost import count_parameters
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir

TINY = {"n_resblocks": 2, "n_feats": 8}
EDSR_BASELINE_PAPER_PARAMS = 1.4e6  # EDSR paper, Table 1: EDSR-baseline x2


def conv_params(in_channels: int, out_channels: int, kernel_size: int = 3) -> int:
    return in_channels * out_channels * kernel_size**2 + out_channels


def edsr_params(n_resblocks: int, n_feats: int, n_colors: int, shuffle_steps: list[int]) -> int:
    """head + 2 convs per block + body conv + one conv per pixel-shuffle step + tail."""
    upsampler = sum(conv_params(n_feats, step**2 * n_feats) for step in shuffle_steps)
    return (
        conv_params(n_colors, n_feats)
        + (2 * n_resblocks + 1) * conv_params(n_feats, n_feats)
        + upsampler
        + conv_params(n_feats, n_colors)
    )


def zero_(module: torch.nn.Module) -> None:
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.zero_()


@pytest.mark.parametrize("upsampler", ["pixelshuffle", "deconv"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_scale_times_a_non_square_batch(scale, upsampler):
    net = ResNetSR(scale=scale, upsampler=upsampler, **TINY)
    x = torch.rand(2, 3, 7, 11)
    assert net(x).shape == (2, 3, 7 * scale, 11 * scale)


def test_deconv_upsampler_builds_scales_pixelshuffle_cannot():
    net = ResNetSR(scale=5, upsampler="deconv", **TINY)
    assert net(torch.rand(2, 3, 6, 9)).shape == (2, 3, 30, 45)


def test_pixelshuffle_at_unsupported_scale_names_the_upsampler_and_suggests_deconv():
    with pytest.raises(SRLabError, match="pixelshuffle") as error:
        ResNetSR(scale=5, upsampler="pixelshuffle", **TINY)
    assert "upsampler=deconv" in str(error.value)


def test_unknown_upsampler_is_an_error_listing_the_choices():
    with pytest.raises(SRLabError, match="pixelshuffle, deconv"):
        ResNetSR(scale=2, upsampler="nearest", **TINY)


def test_single_channel_net_maps_gray_to_gray():
    net = ResNetSR(scale=2, n_colors=1, **TINY)
    assert net(torch.rand(2, 1, 5, 8)).shape == (2, 1, 10, 16)


def test_edsr_baseline_default_has_the_papers_1_4m_parameters_at_x2():
    params = count_parameters(ResNetSR())
    assert params == edsr_params(n_resblocks=16, n_feats=64, n_colors=3, shuffle_steps=[2])
    assert abs(params / EDSR_BASELINE_PAPER_PARAMS - 1) < 0.05


@pytest.mark.parametrize(("scale", "steps"), [(3, [3]), (4, [2, 2])])
def test_parameter_count_follows_the_pixelshuffle_steps(scale, steps):
    params = count_parameters(ResNetSR(scale=scale, **TINY))
    assert params == edsr_params(n_colors=3, shuffle_steps=steps, **TINY)


@pytest.mark.parametrize("mean_shift", [True, False])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_global_skip_with_zero_tail_is_exactly_the_bicubic_upscale(scale, mean_shift):
    net = ResNetSR(scale=scale, global_skip=True, mean_shift=mean_shift, **TINY)
    zero_(net.tail)
    x = torch.rand(2, 3, 6, 9)
    bicubic = F.interpolate(x, scale_factor=scale, mode="bicubic", align_corners=False)
    torch.testing.assert_close(net(x), bicubic, rtol=0, atol=0)


@pytest.mark.parametrize("family", [RCAN, SRResNet])
def test_the_other_families_global_skip_is_the_same_bicubic(family):
    sizes = {"n_resgroups": 1, "reduction": 4} if family is RCAN else {}
    net = family(scale=3, global_skip=True, **sizes, **TINY)
    zero_(net.tail)
    x = torch.rand(2, 3, 6, 9)
    bicubic = F.interpolate(x, scale_factor=3, mode="bicubic", align_corners=False)
    torch.testing.assert_close(net(x), bicubic, rtol=0, atol=0)


def test_without_global_skip_a_zero_tail_gives_a_constant_image():
    net = ResNetSR(scale=2, global_skip=False, mean_shift=False, **TINY)
    zero_(net.tail)
    assert torch.count_nonzero(net(torch.rand(2, 3, 6, 9))) == 0


def test_zero_body_passes_the_head_features_through():
    """y = x + F(x): with F = 0 the output is tail(upsample(head(x))), not a constant."""
    net = ResNetSR(scale=2, **TINY)
    zero_(net.body)
    x = torch.rand(2, 3, 6, 9)
    with torch.no_grad():
        expected = net.tail(net.upsample(net.head(x - net.rgb_mean))) + net.rgb_mean
        output = net(x)
    torch.testing.assert_close(output, expected, rtol=0, atol=0)
    assert output.std() > 0


def test_body_output_is_added_to_the_head_features():
    net = ResNetSR(scale=2, **TINY)
    x = torch.rand(2, 3, 6, 9)
    with torch.no_grad():
        features = net.head(x - net.rgb_mean)
        features = features + net.body(features)
        expected = net.tail(net.upsample(features)) + net.rgb_mean
        torch.testing.assert_close(net(x), expected)


def test_suggested_upsampler_override_is_a_real_config_key(tmp_path):
    with pytest.raises(SRLabError) as error:
        ResNetSR(scale=5, upsampler="pixelshuffle", **TINY)
    override = re.search(r"(\S+)=deconv", str(error.value)).group(0)
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose("train", overrides=[override, "scale=5", f"paths.output_dir={tmp_path}"])
    assert OmegaConf.select(cfg, override.split("=")[0]) == "deconv"


def test_default_net_keeps_the_state_dict_keys_of_existing_checkpoints():
    keys = list(ResNetSR(scale=4, n_resblocks=2, n_feats=8).state_dict())
    convs = ["head", "body.0.body.0", "body.0.body.2", "body.1.body.0", "body.1.body.2"]
    convs += ["body.2", "upsample.0", "upsample.2", "tail"]
    assert keys == [
        "rgb_mean",
        *(f"{conv}.{what}" for conv in convs for what in ("weight", "bias")),
    ]


def test_batch_norm_blocks_are_conv_bn_act_conv_bn_at_every_scale():
    for scale in (2, 3, 4):
        net = ResNetSR(scale=scale, norm="batch", act="prelu", **TINY)
        block = [type(layer) for layer in net.body[0].body]
        assert block == [nn.Conv2d, nn.BatchNorm2d, nn.PReLU, nn.Conv2d, nn.BatchNorm2d]
        assert net(torch.rand(2, 3, 5, 7)).shape == (2, 3, 5 * scale, 7 * scale)


@pytest.mark.parametrize(("key", "value"), [("norm", "layer"), ("act", "gelu")])
def test_unknown_norm_or_act_is_an_error_naming_the_key(key, value):
    with pytest.raises(SRLabError, match=f"model.{key}='{value}'"):
        ResNetSR(**{key: value}, **TINY)


def test_rgb_mean_is_what_a_zero_tail_outputs():
    net = ResNetSR(rgb_mean=(0.1, 0.2, 0.3), **TINY)
    zero_(net.tail)
    expected = torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1).expand(2, 3, 10, 18)
    torch.testing.assert_close(net(torch.rand(2, 3, 5, 9)), expected, rtol=0, atol=1e-7)


def test_rgb_mean_of_the_wrong_length_names_the_key():
    with pytest.raises(SRLabError, match="model.rgb_mean"):
        ResNetSR(rgb_mean=(0.5, 0.5), **TINY)


def test_img_range_255_with_biases_times_255_computes_the_same_net():
    """A ReLU net with biases is positively homogeneous: scaling its input and every bias by
    255 scales its output by 255, which img_range undoes. This is how 0-255 weights load."""
    torch.manual_seed(0)
    unit = ResNetSR(scale=2, res_scale=0.1, **TINY)
    levels = ResNetSR(scale=2, res_scale=0.1, img_range=255.0, **TINY)
    weights = unit.state_dict()
    x = torch.rand(2, 3, 6, 9)
    with torch.no_grad():
        levels.load_state_dict(weights)
        assert not torch.allclose(levels(x), unit(x), atol=1e-3)  # img_range is not a no-op
        levels.load_state_dict(
            {key: value * 255 if key.endswith("bias") else value for key, value in weights.items()}
        )
        torch.testing.assert_close(levels(x), unit(x), rtol=0, atol=1e-6)
