"""ops/inference.py: super_resolve's self-ensemble, tiled, on gray images, clamped last."""

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from helpers.images import gray_set5, set5
from srlab.models.resnet_sr import ResNetSR
from srlab.ops.inference import super_resolve
from srlab.ops.pixels import to_float


def lr_crop(image: np.ndarray, height: int, width: int) -> torch.Tensor:
    """A (1, C, height, width) float crop of a real image, used as the LR."""
    return to_float(image)[None, :, :height, :width]


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


def test_a_tiled_ensemble_gives_the_whole_image_ensemble():
    lr = lr_crop(set5("butterfly"), 128, 96)  # 3 x 2 tiles, 2 x 3 turned
    net = random_net()  # 7 convolutions at LR resolution: 8 pixels of context suffice
    with torch.inference_mode():
        whole = super_resolve(net, lr, 2, self_ensemble=True)
        tiled = super_resolve(net, lr, 2, tile=48, tile_overlap=16, self_ensemble=True)
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-5)


def test_the_ensemble_is_clamped_after_the_mean_not_view_by_view():
    lr = lr_crop(set5("bird"), 20, 28)
    with torch.inference_mode():
        sr = super_resolve(OrientedNet(), lr, 2, self_ensemble=True)
    torch.testing.assert_close(sr, F.interpolate(lr, scale_factor=2, mode="nearest"))


def test_a_gray_image_is_ensembled_through_the_rgb_net_and_made_gray_again():
    gray = lr_crop(gray_set5("butterfly"), 24, 32)
    assert gray.shape[1] == 1
    net = random_net(n_resblocks=1)
    with torch.inference_mode():
        sr = super_resolve(net, gray, 2, self_ensemble=True)
        rgb = super_resolve(net, gray.expand(-1, 3, -1, -1), 2, self_ensemble=True)
    assert sr.shape == (1, 1, 48, 64)
    torch.testing.assert_close(sr, rgb.mean(dim=1, keepdim=True))


def test_the_ensemble_is_off_by_default():
    lr = lr_crop(set5("bird"), 20, 28)
    with torch.inference_mode():
        plain = super_resolve(OrientedNet(), lr, 2)
    assert plain.amin() == 0 and plain.amax() == 1  # the ramp, clamped: no ensemble ran
