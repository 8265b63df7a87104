"""eval.py (and weights/loading.py): the protocol's numbers for bicubic and for checkpoints."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from conftest import SET5, SHARED_DATA, needs_shared_data
from helpers.images import gray_set5
from srlab.data.degradation import bicubic_upscale
from srlab.data.io import write_image
from srlab.data.sets import BenchmarkSet
from srlab.eval import evaluate
from srlab.ops.color import gray_from_rgb
from srlab.ops.pixels import as_batch, to_float
from srlab.ops.quality import psnr
from srlab.train import train
from srlab.training.summary import RunSummary
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir
from srlab.weights.loading import load_net

# EDSR's and RCAN's tables: bicubic PSNR (dB) / SSIM, by scale.
PUBLISHED_BICUBIC = {
    "Set5": {2: (33.66, 0.9299), 3: (30.39, 0.8682), 4: (28.42, 0.8104)},
    "Set14": {2: (30.24, 0.8688), 3: (27.55, 0.7742), 4: (26.00, 0.7027)},
}


def compose_config(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(name, overrides=overrides)


def run_eval(tmp_path: Path, *overrides: str) -> dict:
    settings = [
        f"paths.data_dir={SHARED_DATA}",
        f"output={tmp_path / 'results.json'}",
        "device=cpu",
    ]
    return evaluate(compose_config("eval", [*settings, *overrides]))


def one_image_set(tmp_path: Path, source: Path, name: str = "one") -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(source, folder / source.name)
    return folder


def gray_image_set(tmp_path: Path) -> Path:
    """A set named "one" of one grayscale photo."""
    write_image(tmp_path / "one" / "butterfly.png", gray_set5("butterfly"))
    return tmp_path / "one"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """A 4-step x2 run of a tiny net with EMA, validated on Set5 at steps 2 and 4."""
    output_dir = tmp_path_factory.mktemp("run")
    overrides = [
        "experiment=quick",
        "model.n_resblocks=2",
        "model.n_feats=8",
        "module.ema_decay=0.9",
        "logger=csv",
        "trainer.max_steps=4",
        "trainer.val_check_interval=2",
        "data.batch_size=4",
        "data.num_workers=0",
        f"paths.output_dir={output_dir}",
    ]
    train(compose_config("train", overrides))
    return output_dir


@pytest.fixture(scope="module")
def best_checkpoint(run_dir) -> Path:
    (path,) = (run_dir / "checkpoints").glob("best-step*.ckpt")
    return path


@pytest.fixture(scope="module")
def bicubic_set5(tmp_path_factory) -> dict[int, dict]:
    """eval model=bicubic on Set5 at x2, x3 and x4."""
    tmp_path = tmp_path_factory.mktemp("bicubic")
    return {
        scale: run_eval(tmp_path, "model=bicubic", f"scale={scale}", "data.sets=[Set5]")
        for scale in (2, 3, 4)
    }


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_reproduces_the_published_set5_numbers(bicubic_set5, scale):
    result = bicubic_set5[scale]
    published_psnr, published_ssim = PUBLISHED_BICUBIC["Set5"][scale]
    assert result["Set5"]["images"] == 5
    assert result["Set5"]["psnr"] == pytest.approx(published_psnr, abs=0.02)
    assert result["Set5"]["ssim"] == pytest.approx(published_ssim, abs=0.001)


@pytest.mark.slow
@needs_shared_data
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_reproduces_the_published_set14_numbers(tmp_path, scale):
    result = run_eval(tmp_path, "model=bicubic", f"scale={scale}", "data.sets=[Set14]")
    published_psnr, published_ssim = PUBLISHED_BICUBIC["Set14"][scale]
    assert result["Set14"]["images"] == 14
    assert result["Set14"]["psnr"] == pytest.approx(published_psnr, abs=0.02)
    assert result["Set14"]["ssim"] == pytest.approx(published_ssim, abs=0.001)


def test_a_gray_image_is_scored_on_its_gray_values(tmp_path):
    folder = gray_image_set(tmp_path)
    result = run_eval(tmp_path, "model=bicubic", "scale=4", f"data.sets=[{folder}]")
    (pair,) = BenchmarkSet("one", folder, 4)
    assert pair.hr.shape[2] == 1
    on_gray = psnr(as_batch(bicubic_upscale(pair.lr, 4)), as_batch(pair.hr), border=4).item()
    assert result["one"]["psnr"] == pytest.approx(on_gray, abs=1e-12)


@needs_shared_data
def test_bd_made_here_scores_as_the_authors_bd_lr_folder(tmp_path):
    """BD is bit-exact, so the bicubic baseline of srlab's BD equals that of the authors' LR
    files, given as a set with its LR folder (paired by the RCAN/RDN names)."""
    folder = SHARED_DATA / "degradations" / "rdn_set5_x3"
    given = f"data.sets=[{{name:Set5,hr:{folder / 'HR'},lr:{folder / 'LRBD'}}}]"
    from_files = run_eval(tmp_path, "model=bicubic", "scale=3", given)
    made = run_eval(tmp_path, "model=bicubic", "scale=3", "degradation=bd", "data.sets=[Set5]")
    assert made["Set5"] == from_files["Set5"]
    assert from_files["Set5"]["psnr"] == pytest.approx(28.78, abs=0.02)  # RDN's Table 3


def test_results_are_written_as_json_per_set(tmp_path):
    folder = one_image_set(tmp_path, SET5 / "bird.png")
    other = one_image_set(tmp_path, SET5 / "head.png", name="other")
    result = run_eval(tmp_path, "model=bicubic", f"data.sets=[{folder},{other}]")
    written = json.loads((tmp_path / "results.json").read_text())
    assert written == result
    assert list(written) == ["one", "other", "cost"]
    assert written["one"]["images"] == 1 and set(written["one"]) == {"psnr", "ssim", "images"}
    # bicubic has no weights; its cost is stated for the papers' input, the LR of 1280 x 720
    assert written["cost"]["params"] == 0 and written["cost"]["input"] == [3, 360, 640]


def test_two_sets_of_the_same_name_are_refused(tmp_path):
    folder = one_image_set(tmp_path, SET5 / "bird.png", name="Set5")
    with pytest.raises(SRLabError, match="Set5"):
        run_eval(tmp_path, "model=bicubic", f"data.sets=[Set5,{folder}]")


def test_a_missing_set_says_where_it_was_looked_for(tmp_path):
    with pytest.raises(SRLabError) as error:
        evaluate(
            compose_config(
                "eval",
                ["model=bicubic", f"paths.data_dir={tmp_path}", "data.sets=[Urban100]"],
            )
        )
    assert str(tmp_path / "benchmarks" / "Urban100") in str(error.value)


def test_eval_gives_the_validation_numbers_the_run_logged(tmp_path, run_dir, best_checkpoint):
    logged = RunSummary.read(run_dir / "summary.json").metrics
    result = run_eval(tmp_path, f"ckpt_path={best_checkpoint}", "scale=2", "data.sets=[Set5]")
    assert result["Set5"]["psnr"] == pytest.approx(logged["val/Set5/psnr"], abs=1e-6)
    assert result["Set5"]["ssim"] == pytest.approx(logged["val/Set5/ssim"], abs=1e-6)


def test_bicubic_gives_the_bicubic_numbers_the_run_logged(run_dir, bicubic_set5):
    logged = RunSummary.read(run_dir / "summary.json").metrics
    result = bicubic_set5[2]
    assert result["Set5"]["psnr"] == pytest.approx(logged["val/Set5/bicubic_psnr"], abs=1e-9)
    assert result["Set5"]["ssim"] == pytest.approx(logged["val/Set5/bicubic_ssim"], abs=1e-9)


def test_tiles_give_the_whole_image_numbers_within_0_01_db(tmp_path, best_checkpoint):
    folder = one_image_set(tmp_path, SET5 / "bird.png")  # LR 144 x 144
    common = [f"ckpt_path={best_checkpoint}", "scale=2", f"data.sets=[{folder}]"]
    whole = run_eval(tmp_path, *common, "tile=null")["one"]["psnr"]
    tiled = run_eval(tmp_path, *common, "tile=48", "tile_overlap=16")["one"]["psnr"]
    assert tiled == pytest.approx(whole, abs=0.01)


def test_a_gray_image_goes_through_an_rgb_net_replicated(tmp_path, best_checkpoint):
    folder = gray_image_set(tmp_path)
    result = run_eval(tmp_path, f"ckpt_path={best_checkpoint}", "scale=2", f"data.sets=[{folder}]")
    (pair,) = BenchmarkSet("one", folder, 2)
    net = load_net(best_checkpoint, scale=2)
    with torch.inference_mode():
        sr = net(to_float(pair.lr)[None].expand(-1, 3, -1, -1).contiguous()).clamp(0, 1)
    expected = psnr(gray_from_rgb(sr), as_batch(pair.hr), border=2).item()
    assert result["one"]["psnr"] == pytest.approx(expected, abs=1e-9)


def test_the_ema_weights_are_loaded_when_the_run_kept_them(best_checkpoint):
    state_dict = torch.load(best_checkpoint, weights_only=True)["state_dict"]
    ema = load_net(best_checkpoint, scale=2).state_dict()
    raw = load_net(best_checkpoint, scale=2, use_ema=False).state_dict()
    torch.testing.assert_close(ema["head.weight"], state_dict["ema.module.head.weight"])
    torch.testing.assert_close(raw["head.weight"], state_dict["net.head.weight"])
    assert not torch.equal(ema["head.weight"], raw["head.weight"])


def test_a_checkpoint_at_another_scale_names_both_scales(tmp_path, best_checkpoint):
    with pytest.raises(SRLabError) as error:
        run_eval(tmp_path, f"ckpt_path={best_checkpoint}", "scale=4")
    message = str(error.value)
    assert str(best_checkpoint) in message and "x2" in message and "scale=4" in message


def test_no_checkpoint_says_what_to_pass(tmp_path):
    with pytest.raises(SRLabError, match="ckpt_path=.*model=bicubic"):
        run_eval(tmp_path)


def test_a_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(SRLabError, match=str(tmp_path / "nope.ckpt")):
        run_eval(tmp_path, f"ckpt_path={tmp_path / 'nope.ckpt'}")


def test_an_unreadable_checkpoint_is_named(tmp_path):
    path = tmp_path / "broken.ckpt"
    path.write_bytes(b"not a checkpoint")
    with pytest.raises(SRLabError, match=str(path)):
        load_net(path, scale=2)


def test_a_checkpoint_neither_from_srlab_nor_known_weights_is_named(tmp_path):
    path = tmp_path / "other.ckpt"  # another project's Lightning checkpoint, say
    torch.save({"state_dict": {"weight": torch.zeros(1)}}, path)
    with pytest.raises(
        SRLabError, match=f"{path}: the weights file holds a dict with keys"
    ) as error:
        load_net(path, scale=2)
    assert "pass the net's weights file" in str(error.value)


def test_weights_that_do_not_fit_the_net_name_the_keys_and_shapes(tmp_path, best_checkpoint):
    checkpoint = torch.load(best_checkpoint, weights_only=True)
    state_dict = checkpoint["state_dict"]
    state_dict["ema.module.tail.weight"] = torch.zeros(1, 8, 3, 3)
    state_dict["ema.module.extra.weight"] = torch.zeros(1)
    del state_dict["ema.module.tail.bias"]
    path = tmp_path / "changed.ckpt"
    torch.save(checkpoint, path)
    with pytest.raises(SRLabError) as error:
        load_net(path, scale=2)
    message = str(error.value)
    assert "missing: tail.bias" in message and "unexpected: extra.weight" in message
    assert "tail.weight (net (3, 8, 3, 3), checkpoint (1, 8, 3, 3))" in message


def srlab_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONWARNINGS": "ignore"}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_command_line_writes_its_run_under_the_log_dir(tmp_path):
    folder = one_image_set(tmp_path, SET5 / "bird.png")
    done = srlab_command(
        "srlab.eval",
        "model=bicubic",
        "scale=4",
        f"data.sets=[{folder}]",
        f"paths.log_dir={tmp_path / 'logs'}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (results,) = (tmp_path / "logs" / "eval" / "runs").glob("*/results.json")
    assert json.loads(results.read_text())["one"]["images"] == 1
    assert "PSNR" in done.stdout


def test_the_command_line_prints_a_mistake_without_a_traceback(tmp_path):
    done = srlab_command(
        "srlab.eval",
        "model=bicubic",
        "data.sets=[Urban100]",
        f"paths.data_dir={tmp_path}",
        f"paths.log_dir={tmp_path / 'logs'}",
        cwd=tmp_path,
    )
    assert done.returncode == 1
    unwrapped = "".join(done.stderr.splitlines())  # the console wraps long lines
    assert str(tmp_path / "benchmarks" / "Urban100") in unwrapped
    assert "Traceback" not in done.stderr


def tiny_checkpoint(path: Path, scale: int, n_feats: int = 4) -> Path:
    """An srlab checkpoint of an untrained tiny ResNetSR (what load_net reads)."""
    from srlab.models.resnet_sr import ResNetSR

    torch.manual_seed(n_feats)
    net = ResNetSR(scale=scale, n_resblocks=1, n_feats=n_feats)
    config = {
        "_target_": "srlab.models.resnet_sr.ResNetSR",
        "scale": scale,
        "n_resblocks": 1,
        "n_feats": n_feats,
    }
    state = {f"net.{key}": value for key, value in net.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"srlab": {"net_config": config, "scale": scale}, "state_dict": state}, path)
    return path


def test_several_checkpoints_make_a_leaderboard_that_skips_other_scales_and_marks_failures(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level("INFO", logger="srlab")
    models = tmp_path / "models"
    small, wide = tiny_checkpoint(models / "a.ckpt", 2, 4), tiny_checkpoint(models / "b.ckpt", 2, 8)
    tiny_checkpoint(models / "x4.ckpt", 4)
    (models / "broken.pth").write_bytes(b"not a checkpoint")
    folder = one_image_set(tmp_path, SET5 / "bird.png")
    results = run_eval(
        tmp_path, f"ckpt_path={models}", "scale=2", f"data.sets=[{folder}]", "cost.latency=false"
    )
    assert set(results) == {"a.ckpt", "b.ckpt", "broken.pth"}  # x4.ckpt skipped
    assert "cannot read checkpoint" in results["broken.pth"]["error"]  # marked, the others go on
    assert "skipped" in caplog.text and "x4.ckpt" in caplog.text
    for name, path in (("a.ckpt", small), ("b.ckpt", wide)):
        alone = run_eval(
            tmp_path / name, f"ckpt_path={path}", f"data.sets=[{folder}]", "cost.latency=false"
        )
        assert results[name]["one"] == alone["one"]  # the same numbers as one eval of it
        assert results[name]["cost"]["macs"] == alone["cost"]["macs"] > 0
    markdown = (tmp_path / "leaderboard.md").read_text()
    assert "broken.pth (failed:" in markdown and "x4.ckpt" not in markdown
    assert "| a.ckpt |" in markdown and "params" in markdown and "MACs (G)" in markdown
    rows = (tmp_path / "leaderboard.csv").read_text().splitlines()
    assert rows[0].startswith("model,path,error,one_psnr") and len(rows) == 4
    page = (tmp_path / "leaderboard.html").read_text()
    assert page.count("data:image/png;base64,") == 1  # PSNR against cost for the one set


def test_a_published_file_is_shown_beside_the_papers_number(tmp_path: Path):
    papers = tmp_path / "papers.yaml"
    papers.write_text("a.ckpt:\n  scales:\n    2: {one: {psnr: 30.0, ssim: 0.9}}\n")
    models = tmp_path / "models"
    tiny_checkpoint(models / "a.ckpt", 2)
    tiny_checkpoint(models / "b.ckpt", 2, 8)
    folder = one_image_set(tmp_path, SET5 / "bird.png")
    results = run_eval(
        tmp_path,
        f"ckpt_path={models}/*.ckpt",
        f"papers={papers}",
        f"data.sets=[{folder}]",
        "cost.latency=false",
    )
    ours = results["a.ckpt"]["one"]["psnr"]
    markdown = (tmp_path / "leaderboard.md").read_text()
    assert f"{ours:.2f} (30.00, {ours - 30.0:+.2f})" in markdown


def test_a_list_of_one_checkpoint_is_one_eval(tmp_path: Path):
    path = tiny_checkpoint(tmp_path / "models" / "a.ckpt", 2)
    folder = one_image_set(tmp_path, SET5 / "bird.png")
    listed = run_eval(
        tmp_path, f"ckpt_path=[{path}]", f"data.sets=[{folder}]", "cost.latency=false"
    )
    alone = run_eval(tmp_path, f"ckpt_path={path}", f"data.sets=[{folder}]", "cost.latency=false")
    assert listed == alone and "one" in listed
