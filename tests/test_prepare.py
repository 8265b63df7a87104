"""prepare.py: DIV2K-style LR folders by the exact degradation; existing outputs are kept."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from conftest import SET5, SHARED_DATA, needs_shared_data, printed_user_error
from helpers.images import gray_set5
from srlab.data.degradation import BicubicNoise, BlurDownsample, bicubic_downscale
from srlab.data.io import mod_crop, read_image, write_image
from srlab.prepare import prepare
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir

MATLAB_SET5_X2 = SHARED_DATA / "matlab_bicubic" / "Set5" / "x2"


def prepare_config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose("prepare", overrides=list(overrides))


def copy_set5(tmp_path: Path, names=("bird.png", "woman.png")) -> Path:
    folder = tmp_path / "hr"
    folder.mkdir()
    for name in names:
        shutil.copy(SET5 / name, folder / name)
    return folder


def run(hr_dir: Path, out_dir: Path, *overrides: str):
    return prepare(prepare_config(f"hr_dir={hr_dir}", f"out_dir={out_dir}", *overrides))


def test_writes_div2k_layout_with_the_exact_degradation_of_the_mod_crop(tmp_path):
    out_dir = tmp_path / "lr"
    summary = run(SET5, out_dir, "scales=[2,3,4]", "workers=2")
    assert summary == {s: {"written": 5, "kept": 0} for s in (2, 3, 4)}
    for scale in (2, 3, 4):
        assert sorted(p.name for p in (out_dir / f"X{scale}").iterdir()) == [
            f"{name}x{scale}.png" for name in ("baby", "bird", "butterfly", "head", "woman")
        ]
    woman = read_image(SET5 / "woman.png")  # 228 x 344: mod-cropped differently at x3 and x4
    for scale in (3, 4):
        expected = bicubic_downscale(mod_crop(woman, scale), scale)
        np.testing.assert_array_equal(
            read_image(out_dir / f"X{scale}" / f"womanx{scale}.png"), expected
        )


@pytest.mark.parametrize("degradation", ["bd", "dn"])
def test_writes_the_lr_of_the_chosen_degradation(tmp_path, degradation):
    hr_dir = copy_set5(tmp_path, ("woman.png",))
    run(hr_dir, tmp_path / "lr", "scales=[3]", f"degradation={degradation}")
    made = {"bd": BlurDownsample(), "dn": BicubicNoise()}[degradation]
    expected = made.degrade(mod_crop(read_image(hr_dir / "woman.png"), 3), 3, "woman")
    np.testing.assert_array_equal(read_image(tmp_path / "lr" / "X3" / "womanx3.png"), expected)


@needs_shared_data
def test_x2_outputs_are_matlabs_own_lr_to_the_last_bit(tmp_path):
    out_dir = tmp_path / "lr"
    run(SET5, out_dir, "scales=[2]")
    references = sorted(MATLAB_SET5_X2.glob("*.png"))
    assert len(references) == 5
    for path in references:
        np.testing.assert_array_equal(read_image(out_dir / "X2" / path.name), read_image(path))


def test_existing_outputs_are_kept_unless_overwrite(tmp_path):
    hr_dir, out_dir = copy_set5(tmp_path), tmp_path / "lr"
    run(hr_dir, out_dir, "scales=[2]")
    marker = np.zeros((144, 144, 3), np.uint8)  # stands for an output from an earlier run
    write_image(out_dir / "X2" / "birdx2.png", marker)

    assert run(hr_dir, out_dir, "scales=[2]") == {2: {"written": 0, "kept": 2}}
    np.testing.assert_array_equal(read_image(out_dir / "X2" / "birdx2.png"), marker)

    assert run(hr_dir, out_dir, "scales=[2]", "overwrite=true") == {2: {"written": 2, "kept": 0}}
    assert read_image(out_dir / "X2" / "birdx2.png").any()


def test_only_missing_scales_are_added(tmp_path):
    hr_dir, out_dir = copy_set5(tmp_path), tmp_path / "lr"
    run(hr_dir, out_dir, "scales=[2]")
    summary = run(hr_dir, out_dir, "scales=[2,4]")
    assert summary == {2: {"written": 0, "kept": 2}, 4: {"written": 2, "kept": 0}}


def test_no_temporary_files_are_left(tmp_path):
    out_dir = tmp_path / "lr"
    run(copy_set5(tmp_path), out_dir, "scales=[2,3]")
    leftovers = [name for _, _, files in os.walk(out_dir) for name in files if name.startswith(".")]
    assert leftovers == []


def test_a_gray_image_gives_a_gray_lr(tmp_path):
    write_image(tmp_path / "hr" / "butterfly.png", gray_set5("butterfly"))
    run(tmp_path / "hr", tmp_path / "lr", "scales=[4]")
    assert read_image(tmp_path / "lr" / "X4" / "butterflyx4.png").shape == (64, 64, 1)


def test_a_missing_hr_folder_is_named(tmp_path):
    with pytest.raises(SRLabError, match=str(tmp_path / "nope")):
        run(tmp_path / "nope", tmp_path / "lr")


def test_an_empty_hr_folder_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SRLabError, match=str(tmp_path / "empty")):
        run(tmp_path / "empty", tmp_path / "lr")


def test_an_unreadable_image_is_named(tmp_path):
    hr_dir = copy_set5(tmp_path)
    (hr_dir / "broken.png").write_bytes(b"\x89PNG but not really")
    with pytest.raises(SRLabError, match=r"broken\.png"):
        run(hr_dir, tmp_path / "lr", "workers=1")


def test_images_whose_outputs_would_collide_are_named(tmp_path):
    hr_dir = copy_set5(tmp_path, ["bird.png"])
    write_image(hr_dir / "tmp.png", read_image(hr_dir / "bird.png"))
    (hr_dir / "tmp.png").rename(hr_dir / "bird.bmp")
    with pytest.raises(SRLabError, match=r"bird\.bmp"):
        run(hr_dir, tmp_path / "lr")


@pytest.mark.parametrize("scales", ["[]", "[1]", "[2.5]"])
def test_bad_scales_are_refused(tmp_path, scales):
    with pytest.raises(SRLabError, match="scales="):
        run(copy_set5(tmp_path), tmp_path / "lr", f"scales={scales}")


def test_folders_must_be_given(capsys):
    printed = printed_user_error(prepare, prepare_config(), "prepare", capsys)
    assert "hr_dir is not set; pass hr_dir=..." in printed


def test_download_of_an_unknown_dataset_is_a_user_error(tmp_path):
    with pytest.raises(SRLabError, match="div2k"):
        run(tmp_path, tmp_path / "lr", "download=imagenet")
