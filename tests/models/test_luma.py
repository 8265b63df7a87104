"""models/luma.py: MATLAB's YCbCr both ways, and its bicubic upscale as exportable ops, equal to
srlab.ops.imresize."""

import pytest
import torch

from srlab.models.luma import BicubicUpscale
from srlab.ops.color import rgb_to_ycbcr, ycbcr_to_rgb
from srlab.ops.imresize import imresize


def test_ycbcr_has_matlabs_values_for_pure_red_and_white():
    rgb = torch.tensor([[255.0, 0, 0], [255, 255, 255]]).T.reshape(1, 3, 1, 2)
    ycbcr = rgb_to_ycbcr(rgb)[0, :, 0].T.tolist()
    # MATLAB: rgb2ycbcr([1 0 0; 1 1 1] as double) * 255
    assert ycbcr[0] == pytest.approx([81.481, 90.203, 240.0], abs=1e-9)
    assert ycbcr[1] == pytest.approx([235.0, 128.0, 128.0], abs=1e-9)


def test_ycbcr_to_rgb_inverts_rgb_to_ycbcr():
    rgb = torch.rand(2, 3, 5, 4, dtype=torch.float64) * 255
    torch.testing.assert_close(ycbcr_to_rgb(rgb_to_ycbcr(rgb)), rgb, rtol=0, atol=1e-10)


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (13, 11), (40, 7)])
@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_the_upscale_is_imresize_to_float64_rounding(scale, size):
    x = torch.rand(2, 3, *size, dtype=torch.float64)
    upscaled = BicubicUpscale(scale)(x)
    torch.testing.assert_close(upscaled, imresize(x, scale=float(scale)), rtol=0, atol=1e-13)


def test_the_upscale_keeps_float32_under_bf16_autocast():
    x = torch.rand(1, 1, 9, 7)
    with torch.autocast("cpu", torch.bfloat16):
        upscaled = BicubicUpscale(3)(x)
    assert upscaled.dtype == torch.float32
    expected = imresize(x.double(), scale=3.0)
    torch.testing.assert_close(upscaled.double(), expected, rtol=0, atol=1e-6)
