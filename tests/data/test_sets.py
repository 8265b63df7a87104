"""data/sets.py: set names resolve to folders; pairs follow the protocol; gray stays gray."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import SET5, SHARED_DATA, needs_shared_data
from helpers.images import gray_set5
from srlab.data.degradation import BlurDownsample, bicubic_downscale
from srlab.data.io import read_image, write_image
from srlab.data.sets import BenchmarkSet, resolve_set, resolve_spec
from srlab.ops.color import gray_from_rgb
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import asset_dir

MATLAB_SET5_X2 = SHARED_DATA / "matlab_bicubic" / "Set5" / "x2"


def copy_images(tmp_path: Path, names: list[str]) -> Path:
    """A folder of the named Set5 images."""
    folder = tmp_path / "images"
    folder.mkdir()
    for name in names:
        shutil.copy(SET5 / name, folder / name)
    return folder


@pytest.mark.parametrize("name", ["Set5", "Set14", "BSD68"])
def test_a_known_name_resolves_under_the_data_dir(tmp_path, name):
    (tmp_path / "benchmarks" / name).mkdir(parents=True)
    assert resolve_set(name, tmp_path) == (name, tmp_path / "benchmarks" / name)


def test_b100_falls_back_to_bsd68_and_is_reported_as_such(tmp_path):
    (tmp_path / "benchmarks" / "BSD68").mkdir(parents=True)
    assert resolve_set("B100", tmp_path) == ("BSD68", tmp_path / "benchmarks" / "BSD68")


def test_set5_is_always_available(tmp_path):
    assert resolve_set("Set5", tmp_path) == ("Set5", Path(asset_dir("Set5")))


def test_a_folder_path_is_a_set_named_after_the_folder(tmp_path):
    folder = copy_images(tmp_path, ["bird.png"])
    assert resolve_set(str(folder), tmp_path) == ("images", folder)


def test_a_missing_known_set_says_where_it_was_looked_for_and_what_to_pass(tmp_path):
    with pytest.raises(SRLabError) as error:
        resolve_set("Urban100", tmp_path)
    message = str(error.value)
    assert str(tmp_path / "benchmarks" / "Urban100") in message
    assert "data.sets=" in message and "paths.data_dir=" in message


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(SRLabError, match="nope"):
        resolve_set(str(tmp_path / "nope"), tmp_path)


def test_an_empty_set_folder_is_named(tmp_path):
    with pytest.raises(SRLabError, match=str(tmp_path)):
        BenchmarkSet("empty", tmp_path, scale=2)


@needs_shared_data
def test_hr_is_mod_cropped_and_lr_is_matlabs_bicubic():
    images = {image.name: image for image in BenchmarkSet("Set5", SET5, scale=2)}
    assert sorted(images) == ["baby", "bird", "butterfly", "head", "woman"]
    for name, image in images.items():
        assert image.hr.shape[0] % 2 == 0 and image.hr.shape[1] % 2 == 0
        np.testing.assert_array_equal(image.lr, read_image(MATLAB_SET5_X2 / f"{name}x2.png"))


def test_hr_is_cropped_to_a_multiple_of_the_scale():
    (woman,) = [image for image in BenchmarkSet("Set5", SET5, scale=3) if image.name == "woman"]
    assert woman.hr.shape == (342, 228, 3)  # 344 x 228 cropped to multiples of 3
    assert woman.lr.shape == (114, 76, 3)


def test_lr_is_read_from_an_lr_folder_when_given(tmp_path):
    lr_dir = tmp_path / "lr"
    lr_dir.mkdir()
    image = np.full((128, 128, 3), 7, dtype=np.uint8)  # not the degradation of baby: detectable
    write_image(lr_dir / "babyx4.png", image)
    folder = copy_images(tmp_path, ["baby.png"])
    (pair,) = BenchmarkSet("images", folder, scale=4, lr_dir=lr_dir)
    np.testing.assert_array_equal(pair.lr, image)


@needs_shared_data
def test_an_lr_folder_pairs_the_rcan_rdn_test_names():
    folder = SHARED_DATA / "degradations" / "rdn_set5_x3"
    images = list(BenchmarkSet("Set5_DN", folder / "HR", scale=3, lr_dir=folder / "LRDN"))
    assert [image.name for image in images] == ["baby", "bird", "butterfly", "head", "woman"]
    for image in images:
        np.testing.assert_array_equal(
            image.lr, read_image(folder / "LRDN" / f"{image.name}_LRDN_x3.png")
        )


def test_a_set_entry_may_name_its_hr_and_lr_folders(tmp_path):
    (tmp_path / "lr").mkdir()
    spec = {"hr": "Set5", "lr": str(tmp_path / "lr"), "name": "Set5_DN"}
    assert resolve_spec(spec, tmp_path) == (
        "Set5_DN",
        Path(asset_dir("Set5")),
        str(tmp_path / "lr"),
    )
    assert resolve_spec("Set5", tmp_path) == ("Set5", Path(asset_dir("Set5")), None)
    with pytest.raises(SRLabError, match="unknown keys: low"):
        resolve_spec({"hr": "Set5", "low": "x"}, tmp_path)
    with pytest.raises(SRLabError, match="LR folder lr=.*nope does not exist"):
        resolve_spec({"hr": "Set5", "lr": str(tmp_path / "nope")}, tmp_path)


def test_without_an_lr_folder_the_degradation_makes_the_lr():
    (butterfly,) = [
        i for i in BenchmarkSet("Set5", SET5, 3, None, BlurDownsample()) if i.name == "butterfly"
    ]
    np.testing.assert_array_equal(butterfly.lr, BlurDownsample().downscale(butterfly.hr, 3))


def test_a_missing_lr_partner_is_listed(tmp_path):
    lr_dir = tmp_path / "lr"
    lr_dir.mkdir()
    write_image(lr_dir / "birdx2.png", np.zeros((144, 144, 3), np.uint8))
    folder = copy_images(tmp_path, ["bird.png", "head.png"])
    with pytest.raises(SRLabError, match=r"no LR partner \{stem\}x2\.png in .*: head;") as error:
        BenchmarkSet("images", folder, scale=2, lr_dir=lr_dir)
    assert str(lr_dir) in str(error.value) and "srlab.prepare" in str(error.value)


def test_an_lr_of_the_wrong_size_names_the_file_and_both_sizes(tmp_path):
    lr_dir = tmp_path / "lr"
    lr_dir.mkdir()
    write_image(lr_dir / "birdx2.png", np.zeros((100, 144, 3), np.uint8))
    folder = copy_images(tmp_path, ["bird.png"])
    with pytest.raises(SRLabError) as error:
        list(BenchmarkSet("images", folder, scale=2, lr_dir=lr_dir))
    message = str(error.value)
    assert str(lr_dir / "birdx2.png") in message and "LR 144x100" in message
    assert "it must be 144x144x3" in message


def test_an_unreadable_image_is_named(tmp_path):
    folder = copy_images(tmp_path, ["bird.png"])
    (folder / "broken.png").write_bytes(b"not a png")
    with pytest.raises(SRLabError, match=r"broken\.png"):
        list(BenchmarkSet("images", folder, scale=2))


def test_a_gray_image_stays_one_channel(tmp_path):
    write_image(tmp_path / "gray" / "butterfly.png", gray_set5("butterfly"))
    assert Image.open(tmp_path / "gray" / "butterfly.png").mode == "L"
    (butterfly,) = BenchmarkSet("gray", tmp_path / "gray", scale=3)
    assert butterfly.hr.shape[2] == 1 and butterfly.lr.shape[2] == 1
    np.testing.assert_array_equal(butterfly.lr, bicubic_downscale(butterfly.hr, 3))


def test_gray_from_rgb_is_the_mean_of_the_channels():
    rgb = torch.rand(2, 3, 5, 7)
    torch.testing.assert_close(gray_from_rgb(rgb), rgb.mean(dim=1, keepdim=True))
    gray = torch.rand(1, 1, 5, 7)
    torch.testing.assert_close(gray_from_rgb(gray.expand(-1, 3, -1, -1)), gray)
