"""models/rcan.py: output shapes, channel attention, the group and long skips, config errors."""

import pytest
import torch

from srlab.models.rcan import RCAN, ChannelAttention
from srlab.utils.errors import SRLabError

TINY = {"n_resgroups": 2, "n_resblocks": 2, "n_feats": 8, "reduction": 4}


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_output_is_scale_times_a_non_square_batch(scale):
    net = RCAN(scale=scale, **TINY)
    assert net(torch.rand(2, 3, 7, 11)).shape == (2, 3, 7 * scale, 11 * scale)


def test_attention_scales_each_channel_by_one_factor_in_0_1():
    torch.manual_seed(0)
    attention = ChannelAttention(n_feats=8, reduction=4)
    x = torch.rand(2, 8, 6, 9) + 0.5
    with torch.no_grad():
        factors = attention(x) / x
    per_channel = factors[..., :1, :1].expand_as(factors)
    torch.testing.assert_close(factors, per_channel)
    assert factors.min() > 0 and factors.max() < 1
    assert factors.flatten(1).std(dim=1).min() > 0  # channels are weighted differently


def test_attention_depends_on_the_channel_averages_only():
    torch.manual_seed(0)
    attention = ChannelAttention(n_feats=8, reduction=4)
    x = torch.rand(1, 8, 6, 9)
    flat = x.mean(dim=(2, 3), keepdim=True).expand_as(x)  # the same averages, nothing else
    with torch.no_grad():
        torch.testing.assert_close(attention(flat) / flat, attention(x) / x)


def test_zero_groups_pass_the_head_features_through_the_long_skip():
    net = RCAN(scale=2, **TINY)
    with torch.no_grad():
        for group in net.body[:-1]:
            for parameter in group.body[-1].parameters():
                parameter.zero_()  # each group's last conv: the group is the identity
        for parameter in net.body[-1].parameters():
            parameter.zero_()
        x = torch.rand(2, 3, 6, 9)
        expected = net.tail(net.upsample(net.head(x - net.rgb_mean))) + net.rgb_mean
        torch.testing.assert_close(net(x), expected, rtol=0, atol=0)


def test_reduction_above_n_feats_names_the_keys():
    with pytest.raises(SRLabError, match="model.reduction=16 .* model.n_feats=8"):
        RCAN(n_resgroups=1, n_resblocks=1, n_feats=8, reduction=16)
