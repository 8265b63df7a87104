"""ops/blur.py and the MATLAB uint8 cast it rounds with (BD against the authors' files:
tests/data/test_degradation.py)."""

from __future__ import annotations

import torch

from srlab.ops.blur import blur_downsample, gaussian_kernel
from srlab.ops.pixels import matlab_uint8


def test_the_gaussian_kernel_is_fspecials() -> None:
    # MATLAB: fspecial('gaussian', 3, 0.5), as printed to 4 decimals
    expected = torch.tensor([[0.0113, 0.0838, 0.0113], [0.0838, 0.6193, 0.0838]]).double()
    assert torch.allclose(gaussian_kernel(3, 0.5)[:2], expected, atol=5e-5)
    assert abs(gaussian_kernel(12, 1.6).sum().item() - 1) < 1e-15


def test_matlabs_uint8_rounds_half_away_from_zero_and_saturates() -> None:
    values = torch.tensor([0.5, 1.5, 2.5, 2.4999, -0.4, -3.0, 254.5, 300.0], dtype=torch.float64)
    assert matlab_uint8(values).tolist() == [1, 2, 3, 2, 0, 0, 255, 255]


def test_a_batch_is_blurred_image_by_image() -> None:
    images = torch.randint(0, 256, (2, 3, 24, 36), dtype=torch.uint8)
    kernel = gaussian_kernel(7, 1.6)
    batched = blur_downsample(images, kernel, 3)
    assert batched.shape == (2, 3, 8, 12) and batched.dtype == torch.uint8
    for index in range(2):
        assert torch.equal(batched[index], blur_downsample(images[index], kernel, 3))


def test_a_flat_image_stays_flat_to_its_edges() -> None:
    flat = torch.full((1, 20, 20), 77, dtype=torch.uint8)  # replicate padding: no dark border
    assert torch.equal(blur_downsample(flat, gaussian_kernel(12, 1.6), 4), flat[:, :5, :5])
