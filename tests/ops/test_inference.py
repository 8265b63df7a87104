"""models/inference.py: super_resolve's self-ensemble, tiled, on gray images, clamped last."""

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from srlab.data.io import read_image
from srlab.models.resnet_sr import ResNetSR
from srlab.ops.inference import super_resolve
from srlab.ops.pixels import to_float


def real_image(shared_data: Path, relative: str, height: int, width: int) -> torch.Tensor:
    """A (1, C, height, width) float crop of a real image, used as the LR."""
    return to_float(read_image(shared_data / "benchmarks" / relative))[None, :, :height, :width]


def random_net(n_resblocks: int = 2) -> ResNetSR:
    torch.manual_seed(0)
    return ResNetSR(scale=2, n_resblocks=n_resblocks, n_feats=8).eval()


class OrientedNet(nn.Module):
    """Nearest upsampling plus a ramp from -w/2 to w/2 across the output's width: every view's
    output lies far outside [0, 1], but the ramps cancel over the 8 views (a left-right mirror
    negates one), so the ensemble is the upsampled image itself."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sr = F.interpolate(x, scale_factor=2, mode="nearest")
        width = sr.shape[-1]
        return sr + (torch.arange(width) - (width - 1) / 2)


def test_a_tiled_ensemble_gives_the_whole_image_ensemble(shared_data):
    lr = real_image(shared_data, "Set5/butterfly.png", 128, 96)  # 3 x 2 tiles, 2 x 3 turned
    net = random_net()  # 7 convolutions at LR resolution: 8 pixels of context suffice
    with torch.inference_mode():
        whole = super_resolve(net, lr, 2, self_ensemble=True)
        tiled = super_resolve(net, lr, 2, tile=48, tile_overlap=16, self_ensemble=True)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)


def test_the_ensemble_is_clamped_after_the_mean_not_view_by_view(shared_data):
    lr = real_image(shared_data, "Set5/bird.png", 20, 28)
    with torch.inference_mode():
        sr = super_resolve(OrientedNet(), lr, 2, self_ensemble=True)
    torch.testing.assert_close(sr, F.interpolate(lr, scale_factor=2, mode="nearest"))


def test_a_gray_image_is_ensembled_through_the_rgb_net_and_made_gray_again(shared_data):
    gray = real_image(shared_data, "Set14/bridge.png", 24, 32)
    assert gray.shape[1] == 1
    net = random_net(n_resblocks=1)
    with torch.inference_mode():
        sr = super_resolve(net, gray, 2, self_ensemble=True)
        rgb = super_resolve(net, gray.expand(-1, 3, -1, -1), 2, self_ensemble=True)
    assert sr.shape == (1, 1, 48, 64)
    torch.testing.assert_close(sr, rgb.mean(dim=1, keepdim=True))


def test_the_ensemble_is_off_by_default(shared_data):
    lr = real_image(shared_data, "Set5/bird.png", 20, 28)
    with torch.inference_mode():
        plain = super_resolve(OrientedNet(), lr, 2)
    assert plain.amin() == 0 and plain.amax() == 1  # the ramp, clamped: no ensemble ran
