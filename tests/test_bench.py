"""The benchmark: results.json holds every figure with its median and spread (never a timing
assertion: the machine is shared)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from srlab.bench import bench
from srlab.data.degradation import bicubic_downscale
from srlab.data.io import mod_crop, read_image
from srlab.ops.pixels import to_uint8
from srlab.speed.common import spread
from srlab.speed.plain_loop import Job, batches
from srlab.speed.train_speed import steady_steps_per_s
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import asset_dir, config_dir

TINY_TRAIN = [
    "model.n_resblocks=1",
    "model.n_feats=8",
    "data.batch_size=4",
    "data.num_workers=1",
    "logger.wandb.mode=offline",
]
TINY_BENCH = [
    "repeats=1",
    f"train.overrides=[{','.join(repr(o) for o in TINY_TRAIN)}]",
    "train.extra_overrides=['trainer.log_every_n_steps=1']",  # added to the overrides
    "train.warmup_steps=1",
    "train.steps=2",
    "train.distinct_batches=2",
    "e2e.warmup_steps=1",
    "e2e.steps=2",
    "loader.warmup_batches=1",
    "loader.batches=2",
    "resize.sets=[Set5]",
    "resize.scales=[2]",
    "inference.scales=[2]",
    "inference.sizes=[16]",
    "inference.tile=8",
    "inference.tile_overlap=2",
]
FIGURES = {
    "train_step_ratio_vs_plain",
    "train_steps_per_s_lightning",
    "train_steps_per_s_plain",
    "train_e2e_ratio_vs_plain",
    "train_e2e_steps_per_s_srlab",
    "train_e2e_steps_per_s_plain",
    "train_e2e_first_step_s_srlab",
    "train_e2e_first_step_s_plain",
    "lightning_overhead_ms_per_step",
    "data_over_model",
    "loader_samples_per_s",
    "model_samples_per_s",
    "imresize_speedup_vs_numpy",
    "imresize_speedup_vs_numpy_1_thread",
    "imresize_speedup_vs_numpy_x3",
    "imresize_speedup_vs_numpy_0.7",
    "imresize_torch_s",
    "imresize_numpy_s",
    "onnx_over_torch_images_per_s",
    "onnx_images_per_s",
    "torch_images_per_s",
    "onnx_max_abs_difference",
    "inference_x2_16px_whole_mp_per_s",
    "inference_x2_16px_tiled_mp_per_s",
}


def test_results_json_has_every_figure_with_median_and_spread(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(
            "bench",
            overrides=[
                *TINY_BENCH,
                f"paths.log_dir={tmp_path / 'logs'}",
                f"paths.output_dir={tmp_path / 'bench'}",
            ],
        )
        bench(cfg)

    results = json.loads((tmp_path / "bench" / "results.json").read_text())
    figures = results["figures"]
    assert FIGURES <= set(figures)
    for name, figure in figures.items():
        assert {"median", "min", "max", "q1", "q3", "n", "unit"} <= set(figure), name
        assert figure["n"] == 1 and figure["min"] <= figure["median"] <= figure["max"], name
    assert results["checks"]["imresize_identical"] is True
    assert {"cpu", "cpu_cores", "torch_threads", "torch", "gpu"} <= set(results["machine"])
    train_config = results["config"]["train_config"]
    assert (
        train_config["model"]["n_feats"] == 8 and train_config["trainer"]["log_every_n_steps"] == 1
    )
    assert set(results["setup"]) == {"train", "e2e", "loader", "resize", "export", "inference"}
    assert "ResNetSR x2 (n_resblocks" in results["setup"]["train"]  # the net it measured, named
    assert figures["onnx_max_abs_difference"]["median"] < 1e-4  # the exported net is the net
    # The Lightning run went through srlab.train, W&B logger on: its files are there.
    runs = tmp_path / "bench" / "train_runs"
    summary = json.loads((runs / "0" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["steps"] == 3
    assert list(runs.rglob("offline-run-*/run-*.wandb")), "the W&B logger was not on"
    printed = capsys.readouterr().out
    assert "| train_step_ratio_vs_plain |" in printed and "| x2 | 16² |" in printed


def test_parts_measure_only_what_is_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(
            "bench",
            overrides=[
                *TINY_BENCH,
                "parts=[resize]",
                "resize.factors=[]",
                f"paths.log_dir={tmp_path / 'logs'}",
                f"paths.output_dir={tmp_path / 'bench'}",
            ],
        )
        results = bench(cfg)
        assert set(results["figures"]) == {
            "imresize_speedup_vs_numpy",
            "imresize_speedup_vs_numpy_1_thread",
            "imresize_speedup_vs_numpy_x3",
            "imresize_torch_s",
            "imresize_numpy_s",
        }
        assert set(results["setup"]) == {"resize"}
        assert not (tmp_path / "bench" / "train_runs").exists()
        assert "| scale | LR size |" not in capsys.readouterr().out  # no empty inference table

        cfg.parts = ["resize", "speed"]
        with pytest.raises(SRLabError, match=r"\['speed'\] unknown"):
            bench(cfg)


def test_steps_per_s_counts_only_the_steps_after_the_warmup() -> None:
    step_end_s = [10.0, 11.0, 11.5, 12.5, 20.0]  # the clock at the end of steps 1 to 5
    # From the end of step 2 to the end of step 4: 2 steps in 1.5 s.
    assert steady_steps_per_s(step_end_s, warmup_steps=2, steps=2) == pytest.approx(2 / 1.5)
    with pytest.raises(SRLabError, match="warmup_steps"):
        steady_steps_per_s(step_end_s, warmup_steps=0, steps=2)


def test_spread_gives_median_range_and_quartiles() -> None:
    summary = spread([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (summary["median"], summary["min"], summary["max"]) == (3.0, 1.0, 5.0)
    assert (summary["q1"], summary["q3"]) == (2.0, 4.0)
    assert summary["values"] == [5.0, 1.0, 3.0, 2.0, 4.0]


def test_plain_loop_batches_are_aligned_pairs_of_the_whole_image_lr() -> None:
    """The end-to-end yardstick trains on what srlab trains on: each LR patch is the exact
    degradation of its HR patch (inside the border ring, which sees the whole image), flipped
    and transposed with it. The D4 element is undone before degrading: MATLAB's resize rounds
    between its height and width passes, so a rotation does not commute with it."""
    hr = mod_crop(read_image(Path(asset_dir("Set5")) / "butterfly.png"), 2)
    job = Job(
        model={}, images=[], scale=2, patch_size=48, batch_size=8, steps=1, lr=1e-4,
        betas=(0.9, 0.99), seed=0, channels_last=False, out="",
    )  # fmt: skip
    lr_batch, hr_batch = next(
        batches([(hr, bicubic_downscale(hr, 2))], job, np.random.default_rng(0))
    )
    assert lr_batch.shape == (8, 3, 24, 24) and hr_batch.shape == (8, 3, 48, 48)

    def undo(image: np.ndarray, flip: bool, turns: int) -> np.ndarray:
        image = np.rot90(image, -turns)
        return np.ascontiguousarray(image[:, ::-1] if flip else image)

    for lr, hr_patch in zip(lr_batch, hr_batch, strict=True):
        lr, hr_patch = to_uint8(lr), to_uint8(hr_patch)
        matches = [
            np.array_equal(
                bicubic_downscale(undo(hr_patch, flip, turns), 2)[3:-3, 3:-3],
                undo(lr, flip, turns)[3:-3, 3:-3],
            )
            for flip in (False, True)
            for turns in range(4)
        ]
        assert any(matches)
