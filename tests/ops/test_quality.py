"""ops/quality.py and ops/color.py against scikit-image, on the real Set5 images (bundled).

The pairs are HR images and a PIL bicubic down-up (x2) copy of them. PIL's bicubic is not the
protocol's MATLAB imresize, so published bicubic numbers are not asserted here; the pairs only
need to be realistic SR errors that both implementations score.
"""

from functools import cache

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from helpers.images import SET5, SET5_NAMES
from srlab.ops.color import rgb_to_y, scoring_channel
from srlab.ops.quality import as_float64_levels, psnr, shave, ssim

SCALE = 2
BORDER = SCALE
SKIMAGE_SSIM = {
    "gaussian_weights": True,
    "sigma": 1.5,
    "use_sample_covariance": False,
    "data_range": 255,
}


@cache
def _pair(name: str, gray: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(sr, hr) uint8 arrays: Set5's `name` (as gray: PIL's luma) mod-cropped, and its PIL
    bicubic down-up copy."""
    hr = Image.open(SET5 / f"{name}.png")
    hr = hr.convert("L") if gray else hr
    hr = hr.crop((0, 0, hr.width - hr.width % SCALE, hr.height - hr.height % SCALE))
    low = hr.resize((hr.width // SCALE, hr.height // SCALE), Image.BICUBIC)
    sr = low.resize(hr.size, Image.BICUBIC)
    return np.asarray(sr), np.asarray(hr)


def _tensor(image: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, 3) array -> (1, C, H, W) tensor."""
    tensor = torch.from_numpy(image.copy())
    return tensor[None, None] if tensor.ndim == 2 else tensor.permute(2, 0, 1)[None]


def _reference_channel(image: np.ndarray) -> np.ndarray:
    """The scored channel computed by skimage: its rgb2ycbcr Y, or the gray values, shaved."""
    channel = rgb2ycbcr(image)[..., 0] if image.ndim == 3 else image.astype(np.float64)
    return channel[BORDER:-BORDER, BORDER:-BORDER]


def test_psnr_matches_skimage_on_set5():
    errors = {}
    for name in SET5_NAMES:
        sr, hr = _pair(name)
        ours = psnr(_tensor(sr), _tensor(hr), BORDER).item()
        reference = peak_signal_noise_ratio(
            _reference_channel(hr), _reference_channel(sr), data_range=255
        )
        errors[name] = abs(ours - reference)
    assert max(errors.values()) < 1e-3, errors


def test_ssim_matches_skimage_on_set5():
    errors = {}
    for name in SET5_NAMES:
        sr, hr = _pair(name)
        ours = ssim(_tensor(sr), _tensor(hr), BORDER).item()
        reference = structural_similarity(
            _reference_channel(hr), _reference_channel(sr), **SKIMAGE_SSIM
        )
        errors[name] = abs(ours - reference)
    assert max(errors.values()) < 1e-4, errors


def test_skimage_reference_averages_the_valid_region_only():
    """skimage filters with reflected borders but averages only the map's valid region: the
    5-pixel rim that an 11x11 window cannot cover without padding. That makes it a reference
    for the protocol's valid-region SSIM."""
    sr, hr = _pair("baby")
    mean, full_map = structural_similarity(
        _reference_channel(hr), _reference_channel(sr), full=True, **SKIMAGE_SSIM
    )
    assert mean == pytest.approx(full_map[5:-5, 5:-5].mean(), abs=1e-12)
    assert abs(mean - full_map.mean()) > 1e-5


def test_rgb_scores_match_skimage_over_all_channels():
    sr, hr = _pair("butterfly")
    sr_shaved, hr_shaved = (image[BORDER:-BORDER, BORDER:-BORDER] for image in (sr, hr))
    ours_psnr = psnr(_tensor(sr), _tensor(hr), BORDER, y_channel=False).item()
    ours_ssim = ssim(_tensor(sr), _tensor(hr), BORDER, y_channel=False).item()
    reference_psnr = peak_signal_noise_ratio(hr_shaved, sr_shaved, data_range=255)
    reference_ssim = structural_similarity(
        hr_shaved.astype(np.float64), sr_shaved.astype(np.float64), channel_axis=2, **SKIMAGE_SSIM
    )
    assert ours_psnr == pytest.approx(reference_psnr, abs=1e-3)
    assert ours_ssim == pytest.approx(reference_ssim, abs=1e-4)


def test_torchmetrics_ssim_differs_from_the_protocol():
    """torchmetrics pads with reflection and averages the padded rim too: off by ~0.0006 here
    (0.0036 on Set14's foreman), which is why srlab has its own SSIM."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    sr, hr = _pair("butterfly")
    sr_y, hr_y = (torch.from_numpy(_reference_channel(image))[None, None] for image in (sr, hr))
    theirs = structural_similarity_index_measure(sr_y, hr_y, data_range=255.0).item()
    ours = ssim(_tensor(sr), _tensor(hr), BORDER).item()
    assert abs(theirs - ours) > 3e-4  # 3x the tolerance of ours against skimage


def test_rgb_to_y_is_matlab_rgb2ycbcr_unrounded():
    sr, _ = _pair("baby")
    ours = rgb_to_y(_tensor(sr))[0, 0].numpy()
    np.testing.assert_allclose(ours, rgb2ycbcr(sr)[..., 0], rtol=0, atol=1e-10)
    assert not np.allclose(ours, np.round(ours))
    extremes = torch.tensor([[0, 255], [0, 255], [0, 255]], dtype=torch.uint8).view(1, 3, 1, 2)
    assert rgb_to_y(extremes).flatten().tolist() == pytest.approx([16.0, 235.0], abs=1e-12)


def test_gray_image_is_scored_on_its_gray_values():
    sr, hr = _pair("butterfly", gray=True)
    assert hr.ndim == 2
    assert torch.equal(scoring_channel(_tensor(hr)), _tensor(hr).double())
    ours = psnr(_tensor(sr), _tensor(hr), BORDER).item()
    reference = peak_signal_noise_ratio(
        _reference_channel(hr), _reference_channel(sr), data_range=255
    )
    assert ours == pytest.approx(reference, abs=1e-3)
    # Y of the gray image replicated to RGB is squeezed into 16-235, which inflates PSNR.
    as_rgb = psnr(_tensor(sr).expand(-1, 3, -1, -1), _tensor(hr).expand(-1, 3, -1, -1), BORDER)
    assert as_rgb.item() - ours > 1.0


def test_float_input_is_scored_as_its_uint8_quantization():
    sr, hr = _pair("bird")
    sr_uint8, hr_uint8 = _tensor(sr), _tensor(hr)
    generator = torch.Generator().manual_seed(0)
    # Within 0.4 levels of the uint8 image, so the quantization gives the uint8 image back.
    jitter = (torch.rand(sr_uint8.shape, generator=generator) - 0.5) * 0.8 / 255
    sr_float = (sr_uint8 / 255 + jitter).float()
    assert torch.equal(as_float64_levels(sr_float), sr_uint8.double())
    assert psnr(sr_float, hr_uint8, BORDER).item() == psnr(sr_uint8, hr_uint8, BORDER).item()
    assert ssim(sr_float, hr_uint8, BORDER).item() == ssim(sr_uint8, hr_uint8, BORDER).item()


def test_float_input_is_clamped_to_the_unit_range():
    levels = as_float64_levels(torch.tensor([-0.3, 0.0, 0.5, 1.0, 1.7]))
    assert levels.tolist() == [0.0, 0.0, 128.0, 255.0, 255.0]
    assert levels.dtype == torch.float64


def test_batch_gives_the_per_image_scores():
    crops = [_pair(name) for name in SET5_NAMES[:3]]
    sr = torch.cat([_tensor(pair_sr[:96, :96]) for pair_sr, _ in crops])
    hr = torch.cat([_tensor(pair_hr[:96, :96]) for _, pair_hr in crops])
    for score in (psnr, ssim):
        singles = torch.cat([score(sr[i : i + 1], hr[i : i + 1], BORDER) for i in range(3)])
        assert torch.equal(score(sr, hr, BORDER), singles)


def test_identical_images_score_infinite_psnr_and_unit_ssim():
    image = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    assert torch.isinf(psnr(image, image, BORDER)).all()
    assert ssim(image, image, BORDER).tolist() == pytest.approx([1.0, 1.0], abs=1e-12)


def test_shave_crops_border_pixels_from_each_side():
    image = torch.arange(6 * 7).view(1, 1, 6, 7)
    assert torch.equal(shave(image, 2), image[..., 2:4, 2:5])
    assert torch.equal(shave(image, 0), image)


@pytest.mark.parametrize("score", [psnr, ssim])
def test_shape_mismatch_names_both_shapes(score):
    sr = torch.zeros(1, 3, 32, 32, dtype=torch.uint8)
    hr = torch.zeros(1, 3, 32, 30, dtype=torch.uint8)
    with pytest.raises(ValueError, match=r"\(1, 3, 32, 32\).*\(1, 3, 32, 30\)"):
        score(sr, hr, BORDER)
