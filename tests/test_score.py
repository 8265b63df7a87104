"""score.py: SR folders scored against HR by name, by the protocol; bad input is named."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from conftest import SET5, SHARED_DATA, needs_shared_data, printed_user_error
from helpers.images import SET5_NAMES, gray_set5
from srlab.data.degradation import bicubic_downscale, bicubic_upscale
from srlab.data.io import mod_crop, read_image, write_image
from srlab.ops.pixels import as_batch
from srlab.ops.quality import psnr
from srlab.score import score
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir

SET5_BICUBIC_X4 = 28.430235132993715  # eval's bicubic baseline, same images, same protocol


def score_config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose("score", overrides=list(overrides))


def run(sr_dir: Path, hr_dir: Path, scale: int = 4, *overrides: str) -> dict:
    output = f"output={sr_dir.parent / 'scores.json'}"
    settings = (f"sr_dir={sr_dir}", f"hr_dir={hr_dir}", f"scale={scale}", output)
    return score(score_config(*settings, *overrides))


def write_bicubic_results(hr_dir: Path, sr_dir: Path, scale: int, names: dict[str, str]) -> None:
    """The bicubic baseline's SR of each HR `stem`, saved under the given file name."""
    for stem, file_name in names.items():
        lr = bicubic_downscale(mod_crop(read_image(hr_dir / f"{stem}.png"), scale), scale)
        write_image(sr_dir / file_name, bicubic_upscale(lr, scale))


def small_pair(tmp_path: Path, names=("a", "b"), size=(48, 40)) -> tuple[Path, Path]:
    """Random 48x40 HR images and noisy copies as SR, under the same names."""
    rng = np.random.default_rng(0)
    sr_dir, hr_dir = tmp_path / "sr", tmp_path / "hr"
    for name in names:
        hr = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
        write_image(hr_dir / f"{name}.png", hr)
        write_image(sr_dir / f"{name}.png", np.clip(hr.astype(int) + 3, 0, 255).astype(np.uint8))
    return sr_dir, hr_dir


def test_scores_match_eval_and_are_written_as_json(tmp_path):
    sr_dir = tmp_path / "sr"
    names = {stem: f"{stem}.png" for stem in ("baby", "bird", "butterfly", "head", "woman")}
    write_bicubic_results(SET5, sr_dir, 4, names)
    output = tmp_path / "scores.json"
    scores = run(sr_dir, SET5, 4, f"output={output}")
    assert scores["mean"]["psnr"] == pytest.approx(SET5_BICUBIC_X4, abs=1e-9)
    assert [image["name"] for image in scores["images"]] == list(names)
    assert scores["mean"]["ssim"] == pytest.approx(np.mean([i["ssim"] for i in scores["images"]]))
    assert json.loads(output.read_text()) == scores


def test_sr_names_may_carry_the_usual_suffixes(tmp_path):
    names = ("plain", "div2k", "underscore", "edsr", "both")
    sr_dir, hr_dir = small_pair(tmp_path, names=names)
    exact = run(sr_dir, hr_dir, 4)
    for stem, file_name in [
        ("div2k", "div2kx4.png"),
        ("underscore", "underscore_x4.png"),
        ("edsr", "edsr_SR.png"),
        ("both", "both_x4_SR.png"),
    ]:
        (sr_dir / f"{stem}.png").rename(sr_dir / file_name)
    assert run(sr_dir, hr_dir, 4) == exact


def test_the_rcan_rdn_test_names_pair_by_the_name_before_their_tags(tmp_path):
    sr_dir, hr_dir = small_pair(tmp_path)
    exact = run(sr_dir, hr_dir, 4)
    for stem in ("a", "b"):
        (hr_dir / f"{stem}.png").rename(hr_dir / f"{stem}_HR_x4.png")
        (sr_dir / f"{stem}.png").rename(sr_dir / f"{stem}_RDN_x4.png")
    assert run(sr_dir, hr_dir, 4) == exact  # reported as a and b


@needs_shared_data
@pytest.mark.parametrize(
    "degradation, authors",  # PSNR_SSIM_Results_{BD,DN}_model.txt: their MATLAB's means
    [("BD", (34.574862, 0.927990)), ("DN", (28.466710, 0.815144))],
)
def test_rdns_results_score_what_the_authors_scored(tmp_path, degradation, authors):
    folder = SHARED_DATA / "degradations" / "rdn_set5_x3"
    scores = run(folder / f"SR_{degradation}_RDN", folder / "HR", 3)
    assert [image["name"] for image in scores["images"]] == list(SET5_NAMES)
    assert scores["mean"]["psnr"] == pytest.approx(authors[0], abs=2e-6)
    assert scores["mean"]["ssim"] == pytest.approx(authors[1], abs=2e-6)


def test_a_gray_hr_is_scored_on_gray_values_even_for_an_rgb_result(tmp_path):
    hr_dir, sr_dir = tmp_path / "hr", tmp_path / "sr"
    write_image(hr_dir / "butterfly.png", gray_set5("butterfly"))
    write_bicubic_results(hr_dir, sr_dir, 4, {"butterfly": "butterfly.png"})
    gray = run(sr_dir, hr_dir, 4)["images"][0]["psnr"]
    sr = read_image(sr_dir / "butterfly.png")
    write_image(sr_dir / "butterfly.png", np.repeat(sr, 3, axis=2))  # saved as RGB
    assert run(sr_dir, hr_dir, 4)["images"][0]["psnr"] == pytest.approx(gray, abs=1e-12)

    hr = as_batch(mod_crop(read_image(hr_dir / "butterfly.png"), 4))
    on_gray = psnr(as_batch(sr), hr, border=4).item()
    assert gray == pytest.approx(on_gray, abs=1e-12)


def test_a_missing_folder_is_named(tmp_path):
    _, hr_dir = small_pair(tmp_path)
    with pytest.raises(SRLabError, match=str(tmp_path / "nope")):
        run(tmp_path / "nope", hr_dir)


def test_an_empty_folder_is_named(tmp_path):
    sr_dir, _ = small_pair(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SRLabError, match=str(tmp_path / "empty")):
        run(sr_dir, tmp_path / "empty")


def test_names_that_do_not_match_are_listed(tmp_path):
    sr_dir, hr_dir = small_pair(tmp_path)
    (sr_dir / "a.png").rename(sr_dir / "a_EDSR.png")
    with pytest.raises(SRLabError) as error:
        run(sr_dir, hr_dir)
    message = str(error.value)
    assert "SR files with no HR of the same name: a_EDSR.png" in message
    assert "HR files with no SR result: a.png" in message


def test_two_results_for_one_image_are_listed(tmp_path):
    sr_dir, hr_dir = small_pair(tmp_path)
    shutil.copy(sr_dir / "a.png", sr_dir / "a_x4.png")
    with pytest.raises(SRLabError, match=r"a\.png & a_x4\.png"):
        run(sr_dir, hr_dir)


def test_a_size_mismatch_names_the_file_and_both_sizes(tmp_path):
    sr_dir, hr_dir = small_pair(tmp_path)
    write_image(sr_dir / "b.png", np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(SRLabError) as error:
        run(sr_dir, hr_dir)
    message = str(error.value)
    assert str(sr_dir / "b.png") in message and "40x40" in message and "40x48" in message


def test_hr_is_mod_cropped_before_the_sizes_are_compared(tmp_path):
    sr_dir, hr_dir = small_pair(tmp_path, names=("a",), size=(50, 43))
    write_image(sr_dir / "a.png", read_image(sr_dir / "a.png")[:48, :40])
    assert len(run(sr_dir, hr_dir, 4)["images"]) == 1


def test_an_unreadable_image_is_named(tmp_path):
    sr_dir, hr_dir = small_pair(tmp_path)
    (sr_dir / "b.png").write_bytes(b"truncated")
    with pytest.raises(SRLabError, match=str(sr_dir / "b.png")):
        run(sr_dir, hr_dir)


@pytest.mark.parametrize("missing", ["sr_dir", "hr_dir", "scale"])
def test_every_setting_must_be_given(tmp_path, missing, capsys):
    sr_dir, hr_dir = small_pair(tmp_path)
    settings = {"sr_dir": sr_dir, "hr_dir": hr_dir, "scale": 4}
    del settings[missing]
    cfg = score_config(*(f"{key}={value}" for key, value in settings.items()))
    printed = printed_user_error(score, cfg, "score", capsys)
    assert f"{missing} is not set; pass {missing}=..." in printed
    assert "python -m srlab.score" in printed  # the usage line
