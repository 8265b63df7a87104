"""MATLAB-exact bicubic imresize: against MATLAB's own outputs (../shared/data), and torch
against NumPy (on the bundled Set5)."""

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import SHARED_DATA as DATA
from helpers.images import SET5_NAMES, gray_set5, set5
from srlab.ops import imresize as imresize_module
from srlab.ops.imresize import imresize
from srlab.ops.imresize_numpy import imresize_numpy

SCALES = (1 / 2, 1 / 3, 1 / 4, 0.7, 1.5, 2, 3)
# Every kind of pass: float32 exact (x2, x4 down and up), float32 with settled ties (1/3, 0.7,
# 0.45), float64 tap by tap (x3, x1.5 up).
DOWNSCALES = (1 / 2, 1 / 3, 1 / 4, 0.7, 0.45)
EXACT_SCALES = (*DOWNSCALES, 2, 3, 4, 1.5)


def _read(relative: str) -> np.ndarray:
    path = DATA / relative
    if not path.exists():
        pytest.skip(f"{path} not found: the shared reference data sits next to the repository")
    return np.asarray(Image.open(path))


def _odd_crop() -> np.ndarray:
    """A real RGB photo with odd sides (181 x 125), small enough for the NumPy loops; its sums
    meet float32 ties at 1/3, 0.7, 0.45 and 2/3."""
    return np.ascontiguousarray(set5("woman")[:181, :125])


def _to_chw(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))


def _to_hwc(image: torch.Tensor) -> np.ndarray:
    return image.permute(1, 2, 0).numpy()


def _resize_both(image: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """(torch, NumPy) resizes of a uint8 (H, W, C) image, mod-cropped for a 1/integer scale."""
    inverse = round(1 / scale)
    if scale < 1 and abs(1 / scale - inverse) < 1e-9:
        image = image[: image.shape[0] // inverse * inverse, : image.shape[1] // inverse * inverse]
    image = np.ascontiguousarray(image)
    return _to_hwc(imresize(_to_chw(image), scale=scale)), imresize_numpy(image, scale=scale)


def _set_images(name: str) -> list[tuple[str, np.ndarray]]:
    if name == "Set5":
        return [(stem, set5(stem)) for stem in SET5_NAMES]
    folder = DATA / "benchmarks" / name
    if not folder.is_dir():
        pytest.skip(f"{folder} not found: the shared reference data sits next to the repository")
    images = [(path.stem, np.asarray(Image.open(path))) for path in sorted(folder.glob("*.png"))]
    return [(stem, image if image.ndim == 3 else image[..., None]) for stem, image in images]


def _set5_x2(name: str) -> tuple[np.ndarray, np.ndarray]:
    """(HR mod-cropped to even sides as the protocol does, MATLAB's imresize(HR, 1/2))."""
    hr = set5(name)
    matlab_lr = _read(f"matlab_bicubic/Set5/x2/{name}x2.png")
    return hr[: hr.shape[0] // 2 * 2, : hr.shape[1] // 2 * 2], matlab_lr


@pytest.mark.parametrize("name", SET5_NAMES)
def test_x2_downscale_is_bit_exact_with_matlab(name):
    hr, matlab_lr = _set5_x2(name)

    lr = _to_hwc(imresize(_to_chw(hr), scale=1 / 2))

    identical = (lr == matlab_lr).mean()
    assert identical == 1.0, f"{name}: only {identical:.4%} of pixels match MATLAB"


@pytest.mark.parametrize("name", SET5_NAMES)
def test_numpy_version_is_bit_exact_with_matlab(name):
    hr, matlab_lr = _set5_x2(name)

    np.testing.assert_array_equal(imresize_numpy(hr, scale=1 / 2), matlab_lr)


@pytest.mark.parametrize("scale", SCALES)
def test_torch_matches_numpy_on_uint8(scale):
    image = _odd_crop()

    expected = imresize_numpy(image, scale=scale)
    resized = _to_hwc(imresize(_to_chw(image), scale=scale))

    assert resized.dtype == np.uint8
    np.testing.assert_array_equal(resized, expected)


@pytest.mark.parametrize("scale", SCALES)
def test_torch_matches_numpy_on_float(scale):
    image = _odd_crop().astype(np.float64) / 255

    expected = imresize_numpy(image, scale=scale)
    resized = _to_hwc(imresize(_to_chw(image), scale=scale))

    np.testing.assert_allclose(resized, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("size", "antialias"),
    [((60, 25), True), ((150, 50), True), ((60, 41), False), ((250, 200), True)],
    ids=["height-first", "width-first", "no-antialias", "upscale"],
)
def test_torch_matches_numpy_with_size(size, antialias):
    image = _odd_crop()

    expected = imresize_numpy(image, size=size, antialias=antialias)
    resized = _to_hwc(imresize(_to_chw(image), size=size, antialias=antialias))

    np.testing.assert_array_equal(resized, expected)


def test_torch_matches_numpy_on_a_grayscale_image():
    image = gray_set5("butterfly")[..., 0]

    resized = imresize(torch.from_numpy(image.copy()), scale=1 / 3).numpy()

    np.testing.assert_array_equal(resized, imresize_numpy(image, scale=1 / 3))


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((21, 30), (11, 15)),
        ((3, 21, 30), (3, 11, 15)),
        ((2, 3, 21, 30), (2, 3, 11, 15)),
    ],
)
@pytest.mark.parametrize("dtype", [torch.uint8, torch.float32])
def test_output_keeps_layout_and_dtype_with_ceil_size(shape, expected, dtype):
    image = torch.randint(0, 256, shape).to(dtype)

    resized = imresize(image, scale=1 / 2)

    assert resized.shape == expected
    assert resized.dtype == dtype


def test_size_sets_each_dimension():
    image = torch.randint(0, 256, (3, 21, 30), dtype=torch.uint8)

    assert imresize(image, size=(7, 45)).shape == (3, 7, 45)


def test_size_at_half_equals_scale_half():
    image = torch.randint(0, 256, (3, 20, 30), dtype=torch.uint8)

    assert torch.equal(imresize(image, size=(10, 15)), imresize(image, scale=0.5))


def test_batched_equals_per_image():
    # Wide enough that each pass runs in several bands, some spanning two planes.
    batch = torch.randint(0, 256, (2, 3, 64, 500), dtype=torch.uint8)

    resized = imresize(batch, scale=0.7)

    expected = torch.stack([imresize(image, scale=0.7) for image in batch])
    assert torch.equal(resized, expected)


@pytest.mark.parametrize(
    ("scale", "kind"),
    [(1 / 2, "exact"), (1 / 4, "exact"), (2, "exact"), (4, "exact"), (8, "exact")]
    + [(1 / 3, "settled"), (0.7, "settled"), (0.45, "settled")]
    + [(3, "float64"), (1.5, "float64"), (137 / 200, "float64")],
)
def test_each_scale_takes_its_path(scale, kind):
    """Dyadic scales are exact in float32; other downscales settle their ties; other upscales
    and scales whose taps do not repeat soon (137/200) take the float64 path."""
    plan = imresize_module._window_plan(200, round(200 * scale), scale, True)

    taken = "float64" if plan is None else "exact" if plan.tie_margin == 0 else "settled"
    assert taken == kind
    if kind == "settled":
        assert 1e-6 < plan.tie_margin < 1e-3  # a real margin, not a dead search


@pytest.fixture
def float64_path_only():
    """A lower float32 matmul precision (TF32 or bf16, often set for GPU training) turns the
    float32 path off."""
    before = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("high")
    yield
    torch.set_float32_matmul_precision(before)


def test_bf16_cpu_matmuls_turn_the_float32_path_off():
    """torch's newer per-backend setting: get_float32_matmul_precision() then raises."""
    image = _to_chw(_odd_crop())
    try:
        torch.backends.mkldnn.matmul.fp32_precision = "bf16"
        resized = imresize(image, scale=1 / 2)
    finally:
        torch.backends.mkldnn.matmul.fp32_precision = "none"

    np.testing.assert_array_equal(_to_hwc(resized), imresize_numpy(_odd_crop(), scale=1 / 2))


@pytest.mark.parametrize("scale", [1 / 2, 1 / 4, 2, 4, 1 / 3, 0.7])
@pytest.mark.parametrize("group_bytes", [imresize_module.GROUP_BYTES, 1], ids=["grouped", "alone"])
def test_float32_path_equals_float64_path(scale, group_bytes, request, monkeypatch):
    monkeypatch.setattr(imresize_module, "GROUP_BYTES", group_bytes)
    monkeypatch.setattr(imresize_module, "EXACT_CHUNK_BYTES", 4096)  # several chunks per pass
    image = _to_chw(_odd_crop())
    batch = torch.stack([image, image.flip(-1)])

    fast = imresize(batch, scale=scale)
    request.getfixturevalue("float64_path_only")
    reference = imresize(batch, scale=scale)

    assert torch.equal(fast, reference)


@pytest.mark.parametrize(("size", "exact"), [((90, 31), True), ((120, 50), False)])
def test_float32_path_matches_numpy_width_first(size, exact):
    """The width's scale is the smaller (31/124 = 1/4, 50/125 = 0.4): it goes first; exact in
    float32, or (0.4 and 2/3) with ties settled."""
    image = _odd_crop()[:180, : size[1] * 4 if exact else 125]
    for length, out_len in zip(image.shape[:2], size, strict=True):
        plan = imresize_module._window_plan(length, out_len, out_len / length, True)
        assert plan is not None and (plan.tie_margin == 0) == exact

    expected = imresize_numpy(image, size=size)
    resized = _to_hwc(imresize(_to_chw(image), size=size))

    np.testing.assert_array_equal(resized, expected)


@pytest.mark.parametrize(
    ("crop", "scale"),
    [((3, 5), 2), ((3, 5), 4), ((7, 9), 1 / 4), ((2, 2), 1 / 2)]
    + [((3, 5), 0.7), ((9, 13), 0.7), ((2, 7), 1 / 3), ((1, 4), 0.45)],
)
def test_float32_path_matches_numpy_on_tiny_images(crop, scale):
    image = np.ascontiguousarray(_odd_crop()[100 : 100 + crop[0], 50 : 50 + crop[1]])

    expected = imresize_numpy(image, scale=scale)
    resized = _to_hwc(imresize(_to_chw(image), scale=scale))

    np.testing.assert_array_equal(resized, expected)


@pytest.mark.parametrize("scale", DOWNSCALES)
def test_set5_and_a_gray_photo_match_numpy_downscaled(scale):
    """The fast subset of test_every_benchmark_image_matches_numpy (upscales: the odd crop
    above), on the bundled Set5 and a gray copy of butterfly."""
    for name, image in [*_set_images("Set5"), ("gray butterfly", gray_set5("butterfly"))]:
        ours, reference = _resize_both(image, scale)

        assert np.array_equal(ours, reference), (
            f"{name} at {scale:.4g}: {(ours != reference).sum()}"
        )


@pytest.mark.parametrize("scale", DOWNSCALES)
def test_three_set14_images_match_numpy_downscaled(scale):
    """Set14's hardest three (../shared/data): grayscale (bridge), cartoon (comic: flat areas and
    sharp edges, where ties gather) and text (ppt3)."""
    set14 = [item for item in _set_images("Set14") if item[0] in ("bridge", "comic", "ppt3")]
    for name, image in set14:
        ours, reference = _resize_both(image, scale)

        assert np.array_equal(ours, reference), (
            f"{name} at {scale:.4g}: {(ours != reference).sum()}"
        )


@pytest.mark.slow
@pytest.mark.parametrize("set_name", ["Set5", "Set14", "BSD68"])
@pytest.mark.parametrize("scale", EXACT_SCALES)
def test_every_benchmark_image_matches_numpy(set_name, scale):
    for name, image in _set_images(set_name):
        ours, reference = _resize_both(image, scale)

        assert np.array_equal(ours, reference), (
            f"{name} at {scale:.4g}: {(ours != reference).sum()}"
        )


def test_float32_levels_alone_miss_ties_that_settling_fixes(monkeypatch):
    """At 0.7 some sums of real images lie within float32's error of a half-integer (butterfly's
    sharp edges: exact ties in the symmetric phase); without settling them the float32 levels
    would differ from the reference on those pixels."""
    image = np.ascontiguousarray(set5("butterfly"))
    expected = imresize_numpy(image, scale=0.7)
    monkeypatch.setattr(imresize_module, "_settle_ties", lambda *args: None)

    unsettled = _to_hwc(imresize(_to_chw(image), scale=0.7))
    monkeypatch.undo()
    settled = _to_hwc(imresize(_to_chw(image), scale=0.7))

    assert (unsettled != expected).sum() > 0
    np.testing.assert_array_equal(settled, expected)


@pytest.mark.parametrize("scale", [1 / 3, 0.7, 0.45, 0.9])
def test_tie_margin_bounds_the_float32_error(scale):
    """|float32 kernel product - the reference's float64 tap-order sum| <= tie_margin, on
    random levels and on the worst case (255 under every positive weight, 0 elsewhere)."""
    in_len, out_len = 200, round(200 * scale)
    plan = imresize_module._window_plan(in_len, out_len, scale, True)
    weights, taps = imresize_module._contributions(in_len, out_len, scale, True)
    generator = torch.Generator().manual_seed(0)
    random = torch.randint(0, 256, (in_len, 2000), generator=generator).float()
    lines = torch.cat([random, torch.zeros(in_len, 1)], dim=1)

    period, kernel_taps = plan.kernel.shape
    errors = []
    for line in range(out_len):
        worst = torch.zeros(in_len)
        worst[taps[line]] = torch.where(weights[line] > 0, 255.0, 0.0).float()
        block, phase = divmod(line, period)
        window = (plan.first_tap + plan.stride * block + torch.arange(kernel_taps)).clamp(
            0, in_len - 1
        )
        values = torch.cat([lines, worst.unsqueeze(1)], dim=1)
        float32 = plan.kernel[phase] @ values[window]
        reference = torch.zeros(values.shape[1], dtype=torch.float64)
        for weight, tap in zip(weights[line], taps[line], strict=True):
            reference += weight * values[tap].double()  # tap order, as imresize_numpy
        errors.append(float((float32.double() - reference).abs().max()))

    assert max(errors) <= plan.tie_margin


def test_indices_above_finds_every_value_above_the_threshold():
    values = np.random.default_rng(0).random(3 * imresize_module.SEARCH_GROUP + 5) * 0.5
    chosen = [0, 70, 71, 3 * imresize_module.SEARCH_GROUP + 4]  # the last in the short group
    values[chosen] = 0.9

    found = imresize_module._indices_above(torch.from_numpy(values), 0.8)

    assert found.tolist() == chosen


@pytest.mark.parametrize("scale", SCALES)
def test_constant_float64_image_stays_constant(scale):
    image = torch.full((3, 19, 26), 0.3, dtype=torch.float64)

    resized = imresize(image, scale=scale)

    assert (resized - 0.3).abs().max() < 1e-12


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of scale or size"),
        ({"scale": 0.5, "size": (8, 8)}, "exactly one of scale or size"),
        ({"scale": 0}, "positive"),
        ({"scale": -2.0}, "positive"),
        ({"size": (0, 8)}, "positive integers"),
    ],
)
def test_bad_scale_or_size_raises_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        imresize(torch.zeros(16, 16), **kwargs)


@pytest.mark.parametrize("shape", [(16,), (1, 1, 1, 16, 16)])
def test_wrong_ndim_raises_value_error(shape):
    with pytest.raises(ValueError, match=r"\(H, W\), \(C, H, W\) or \(B, C, H, W\)"):
        imresize(torch.zeros(shape), scale=0.5)


def test_integer_dtype_other_than_uint8_raises_value_error():
    with pytest.raises(ValueError, match="uint8 or floating"):
        imresize(torch.zeros(16, 16, dtype=torch.int32), scale=0.5)
