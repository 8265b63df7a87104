"""models/srresnet.py: output shapes, the paper's layers and its 1.5M parameters at x4."""

import pytest
import torch
from torch import nn

from srlab.models.srresnet import SRResNet
from srlab.ops.cost import count_parameters

TINY = {"n_resblocks": 2, "n_feats": 8}


def conv_params(in_channels: int, out_channels: int, kernel_size: int = 3) -> int:
    return in_channels * out_channels * kernel_size**2 + out_channels


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_scale_times_a_non_square_batch(scale):
    net = SRResNet(scale=scale, **TINY)
    assert net(torch.rand(2, 3, 7, 11)).shape == (2, 3, 7 * scale, 11 * scale)
    assert net.eval()(torch.rand(1, 3, 5, 6)).shape == (1, 3, 5 * scale, 6 * scale)


def test_layers_are_the_papers():
    net = SRResNet(scale=4, **TINY)
    assert [type(layer) for layer in net.body[0].body] == [
        nn.Conv2d,
        nn.BatchNorm2d,
        nn.PReLU,
        nn.Conv2d,
        nn.BatchNorm2d,
    ]
    assert [type(layer) for layer in net.body[-2:]] == [nn.Conv2d, nn.BatchNorm2d]
    assert [type(layer) for layer in net.upsample] == [nn.Conv2d, nn.PixelShuffle, nn.PReLU] * 2
    assert net.head[0].kernel_size == net.tail.kernel_size == (9, 9)


def test_parameter_count_at_x4_is_the_sum_of_its_layers():
    with torch.device("meta"):
        params = count_parameters(SRResNet(scale=4))
    prelu, batch_norm = 1, 2 * 64
    block = 2 * (conv_params(64, 64) + batch_norm) + prelu
    expected = (
        conv_params(3, 64, 9)
        + prelu
        + 16 * block
        + conv_params(64, 64)
        + batch_norm
        + 2 * (conv_params(64, 256) + prelu)
        + conv_params(64, 3, 9)
    )
    assert params == expected == 1_549_462
