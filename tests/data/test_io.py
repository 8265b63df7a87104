"""data/io.py: every PNG flavour reads as uint8 (H, W, C); writes are atomic; errors name files."""

import numpy as np
import pytest
from PIL import Image

from helpers.images import SET5, gray_set5
from srlab.data.io import list_images, mod_crop, read_image, write_image
from srlab.utils.errors import SRLabError


def _rgb_crop() -> np.ndarray:
    with Image.open(SET5 / "woman.png") as image:
        return np.asarray(image)[:40, :56].copy()


def test_grayscale_png_reads_as_one_channel(tmp_path):
    Image.fromarray(gray_set5("butterfly")[..., 0]).save(tmp_path / "gray.png")
    with Image.open(tmp_path / "gray.png") as pil:
        assert pil.mode == "L"
        expected = np.asarray(pil)
    image = read_image(tmp_path / "gray.png")
    assert image.dtype == np.uint8
    assert image.shape == (256, 256, 1)
    np.testing.assert_array_equal(image[..., 0], expected)


def test_rgb_png_reads_as_three_channels():
    image = read_image(SET5 / "woman.png")
    assert image.dtype == np.uint8
    assert image.shape == (344, 228, 3)
    np.testing.assert_array_equal(image[:40, :56], _rgb_crop())


def test_rgba_png_drops_the_alpha_channel(tmp_path):
    rgb = _rgb_crop()
    alpha = np.linspace(0, 255, rgb.shape[0] * rgb.shape[1]).astype(np.uint8).reshape(rgb.shape[:2])
    Image.fromarray(np.dstack([rgb, alpha])).save(tmp_path / "rgba.png")
    with Image.open(tmp_path / "rgba.png") as saved:
        assert saved.mode == "RGBA"
    image = read_image(tmp_path / "rgba.png")
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image, rgb)


def test_palette_png_reads_as_its_palette_colors(tmp_path):
    palette = np.array([[255, 0, 0], [0, 128, 0], [10, 20, 30], [200, 200, 255]], np.uint8)
    indices = (np.arange(24 * 32).reshape(24, 32) * 7 % 4).astype(np.uint8)
    image = Image.frombytes("P", (32, 24), indices.tobytes())
    image.putpalette(palette.flatten().tolist())
    image.save(tmp_path / "palette.png")
    with Image.open(tmp_path / "palette.png") as saved:
        assert saved.mode == "P"
    np.testing.assert_array_equal(read_image(tmp_path / "palette.png"), palette[indices])


def test_16bit_png_is_scaled_to_8bit(tmp_path):
    levels = np.array([[0, 257, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(levels).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as saved:
        assert saved.mode.startswith("I")  # 16-bit, not 8-bit
    image = read_image(tmp_path / "deep.png")
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image[..., 0], [[0, 1, 128, 255]])  # round(v * 255 / 65535)


def test_16bit_copy_of_a_real_image_reads_back_as_the_8bit_image(tmp_path):
    gray = gray_set5("butterfly")[:64, :64, 0]
    Image.fromarray(gray.astype(np.uint16) * 257).save(tmp_path / "butterfly16.png")
    np.testing.assert_array_equal(read_image(tmp_path / "butterfly16.png")[..., 0], gray)


def test_dark_16bit_png_is_scaled_even_when_every_level_is_below_256(tmp_path):
    Image.fromarray(np.array([[0, 200, 255]], dtype=np.uint16)).save(tmp_path / "dark.png")
    np.testing.assert_array_equal(read_image(tmp_path / "dark.png")[..., 0], [[0, 1, 1]])


def test_corrupt_file_is_an_error_naming_it(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(b"this is not a png" * 10)
    with pytest.raises(SRLabError, match="x.png") as error:
        read_image(path)
    assert "skip_bad_images" in str(error.value)


def test_truncated_png_is_an_error_naming_it(tmp_path):
    write_image(tmp_path / "whole.png", _rgb_crop())
    data = (tmp_path / "whole.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(SRLabError, match="cut.png"):
        read_image(tmp_path / "cut.png")


@pytest.mark.parametrize("channels", [3, 1])
def test_write_image_round_trips_and_leaves_no_temp_file(tmp_path, channels):
    image = _rgb_crop()[..., :channels]
    write_image(tmp_path / "out" / "image.png", image)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["image.png"]
    np.testing.assert_array_equal(read_image(tmp_path / "out" / "image.png"), image)


def test_failed_write_keeps_the_previous_file_and_leaves_no_temp_file(tmp_path):
    path = tmp_path / "image.png"
    write_image(path, _rgb_crop())
    with pytest.raises(TypeError):
        write_image(path, np.zeros((4, 4, 3), dtype=np.float64))  # PIL cannot write float RGB
    assert [p.name for p in tmp_path.iterdir()] == ["image.png"]
    np.testing.assert_array_equal(read_image(path), _rgb_crop())


def test_list_images_sorts_and_keeps_only_image_suffixes(tmp_path):
    for name in ["b.PNG", "a.jpg", "c.bmp", "notes.txt", "d.npy"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["a.jpg", "b.PNG", "c.bmp"]


def test_list_images_of_a_folder_without_images_names_the_folder(tmp_path):
    (tmp_path / "notes.txt").write_text("no images here")
    with pytest.raises(SRLabError, match=str(tmp_path)):
        list_images(tmp_path, "training HR")


def test_list_images_of_a_missing_folder_names_it(tmp_path):
    with pytest.raises(SRLabError, match="nowhere"):
        list_images(tmp_path / "nowhere")


@pytest.mark.parametrize(("scale", "shape"), [(2, (40, 56)), (3, (39, 54)), (4, (40, 56))])
def test_mod_crop_drops_the_last_rows_and_columns(scale, shape):
    image = _rgb_crop()
    cropped = mod_crop(image, scale)
    assert cropped.shape == (*shape, 3)
    np.testing.assert_array_equal(cropped, image[: shape[0], : shape[1]])
