"""ops/cost.py: parameters, MACs, latency and peak memory, measured the same way for every net."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from srlab.models.resnet_sr import ResNetSR
from srlab.ops.cost import count_macs, lr_size, measure_cost, peak_memory_mb


def test_macs_of_a_convolution_are_its_weights_times_its_output_pixels():
    conv = nn.Conv2d(3, 16, 3, padding=1)
    assert count_macs(conv, (3, 20, 30)) == 3 * 16 * 3 * 3 * 20 * 30


def test_macs_scale_with_the_input_and_do_not_count_a_pixel_shuffle():
    net = nn.Sequential(nn.Conv2d(3, 12, 3, padding=1), nn.PixelShuffle(2))
    assert count_macs(net, (3, 40, 40)) == 4 * count_macs(net, (3, 20, 20))
    assert count_macs(net, (3, 20, 20)) == 3 * 12 * 9 * 20 * 20


def test_the_conventions_input_is_the_lr_of_a_1280_x_720_output_or_ntires_256():
    assert lr_size(2) == (360, 640)
    assert lr_size(3) == (240, 427)
    assert lr_size(4) == (180, 320)
    assert lr_size(4, "ntire") == (256, 256)
    with pytest.raises(ValueError, match="ntire"):
        lr_size(2, "4k")


def test_peak_memory_grows_with_the_image_and_the_width():
    net = ResNetSR(scale=2, n_resblocks=2, n_feats=8).eval()
    small, large = peak_memory_mb(net, (3, 32, 32)), peak_memory_mb(net, (3, 64, 64))
    assert large == pytest.approx(4 * small, rel=0.05)
    # at least two feature maps of 8 x 64 x 64 float32 are alive at once (a block's input
    # and its output), and the 3 x 128 x 128 output
    assert large * 2**20 >= 2 * 8 * 64 * 64 * 4 + 3 * 128 * 128 * 4
    wide = ResNetSR(scale=2, n_resblocks=2, n_feats=32).eval()
    assert peak_memory_mb(wide, (3, 64, 64)) > 3 * large


def test_cost_states_its_input_and_threads():
    net = ResNetSR(scale=4, n_resblocks=1, n_feats=4)
    cost = measure_cost(net, 4, "ntire", warmup=1, repeats=2)
    assert cost.input == (3, 256, 256)
    assert cost.threads == torch.get_num_threads()
    assert cost.latency_ms > 0 and cost.peak_memory_mb > 0
    assert cost.params == sum(p.numel() for p in net.parameters())
    assert measure_cost(net, 4, "ntire", latency=False).latency_ms is None


def test_rlfn_ntire_model_costs_what_its_authors_report(shared_data: Path):
    from srlab.weights.loading import load_net

    net = load_net(shared_data / "published" / "rlfn" / "rlfn_ntire_x4.pth")
    cost = measure_cost(net, net.scale, "ntire", latency=False)
    # RLFN README (NTIRE 2022 counting, a 3 x 256 x 256 input): 0.317 M parameters, 19.70 G
    assert cost.params / 1e6 == pytest.approx(0.317, rel=0.01)
    assert cost.macs / 1e9 == pytest.approx(19.70, rel=0.01)


def test_measuring_leaves_a_training_net_in_training_mode():
    net = ResNetSR(scale=2, n_resblocks=1, n_feats=4, norm="batch").train()
    measure_cost(net, 2, "ntire", warmup=0, repeats=1)
    assert all(module.training for module in net.modules())
    measure_cost(net.eval(), 2, "ntire", latency=False)
    assert not any(module.training for module in net.modules())
