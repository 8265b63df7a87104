"""`python -m srlab.compare`: a real 2-job sweep side by side; failed, unfinished and interrupted
runs marked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers.comparisons import drawn_points, make_run, read_csv, summary_of
from srlab.compare import compare, load_config
from srlab.data.io import write_image
from srlab.reporting.crops import comparison_crops
from srlab.reporting.plots import psnr_figure
from srlab.reporting.runs import run_names
from srlab.reporting.table import short_names
from srlab.training.strips import labelled
from srlab.utils.errors import SRLabError


def test_sweep_table_has_a_row_per_run_with_the_differing_override_and_summary_numbers(
    sweep: Path, tmp_path: Path
) -> None:
    comparison = compare(load_config([str(sweep), f"output={tmp_path}"]))

    rows = read_csv(tmp_path / "comparison.csv")
    assert len(rows) == len(comparison.rows) == 2
    assert sorted(row["n_resblocks"] for row in rows) == ["1", "2"]
    assert "trainer.max_steps" not in rows[0] and "max_steps" not in rows[0]  # same in both
    for row in rows:
        summary = summary_of(sweep / row["run"])
        assert row["status"] == "completed"
        assert int(row["params"]) == summary["params"]
        assert int(row["steps"]) == summary["steps"] == 6
        assert float(row["wall_s"]) == summary["wall_s"]
        assert float(row["gmacs"]) == round(summary["cost"]["macs"] / 1e9, 2)
        for key in ("val/Set5/psnr", "val/Set5/ssim"):
            assert float(row[key]) == summary["metrics"][key]
    markdown = (tmp_path / "comparison.md").read_text()
    assert "| run | val/Set5/psnr | val/Set5/ssim | status | params | gmacs | steps | wall_s |" in (
        markdown
    )
    assert markdown.count("| completed |") == 2


def test_sweep_plot_shows_each_run_at_its_psnr_and_is_a_valid_png(
    sweep: Path, tmp_path: Path
) -> None:
    comparison = compare(load_config([str(sweep), f"output={tmp_path}"]))

    figure = psnr_figure(comparison)

    summaries = [summary_of(run.path) for run in comparison.runs]
    for panel, x_key in enumerate(("params", "wall_s")):
        expected = sorted((s[x_key], s["metrics"]["val/Set5/psnr"]) for s in summaries)
        assert drawn_points(figure, panel, "Set5") == expected
    macs = sorted((s["cost"]["macs"] / 1e9, s["metrics"]["val/Set5/psnr"]) for s in summaries)
    drawn = drawn_points(figure, 2, "Set5")  # the MACs panel, in G
    assert [x for x, _ in drawn] == pytest.approx([x for x, _ in macs])
    assert [y for _, y in drawn] == [y for _, y in macs]
    with Image.open(tmp_path / "comparison.png") as image:
        image.verify()
    with Image.open(tmp_path / "comparison.png") as image:
        assert image.format == "PNG"
        assert image.width > 600 and image.height > 250


def test_command_line_takes_the_sweep_dir_bare_and_writes_into_it(sweep: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "srlab.compare", str(sweep)],
        env={**os.environ, "COLUMNS": "200"},  # rich's table width when not on a terminal
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "n_resblocks" in result.stdout
    assert len(read_csv(sweep / "comparison.csv")) == 2
    assert (sweep / "comparison.md").is_file() and (sweep / "comparison.png").is_file()
    assert not (sweep / "report.html").exists()  # only with html=true


def test_failed_and_unfinished_runs_are_marked_without_crashing(tmp_path: Path) -> None:
    failed = {
        "status": "failed",
        "metrics": {},
        "params": None,
        "steps": 0,
        "wall_s": 1.5,
        "error": "SRLabError: Set14 not found under data/benchmarks/Set14\n  details",
    }
    running = {
        "status": "running",
        "metrics": {"val/Set5/psnr": 30.5, "val/Set5/ssim": 0.9},
        "params": 1000,
        "steps": 3,
        "wall_s": 2.0,
        "history": [{"step": 3, "wall_s": 2.0, "val/Set5/psnr": 30.5, "val/Set5/ssim": 0.9}],
    }
    make_run(tmp_path, "crashed", ["model.n_resblocks=4"], failed)
    make_run(tmp_path, "never_started", ["model.n_resblocks=8"], None)
    make_run(tmp_path, "halfway", ["module.optimizer.lr=1e-3"], running)

    compare(load_config([str(tmp_path), "html=true"]))

    rows = {row["run"]: row for row in read_csv(tmp_path / "comparison.csv")}
    assert (
        rows["crashed"]["status"]
        == "failed: SRLabError: Set14 not found under data/benchmarks/Set14"
    )
    assert rows["never_started"]["status"] == "no summary"
    assert rows["halfway"]["status"] == "unfinished"
    assert float(rows["halfway"]["val/Set5/psnr"]) == 30.5
    assert rows["crashed"]["val/Set5/psnr"] == "" and rows["crashed"]["params"] == ""
    # a run without the override shows the value its config used
    assert [rows[name]["n_resblocks"] for name in ("crashed", "never_started", "halfway")] == [
        "4",
        "8",
        "16",
    ]
    assert [rows[name]["lr"] for name in ("crashed", "never_started", "halfway")] == [
        "0.0001",
        "0.0001",
        "0.001",
    ]
    assert (tmp_path / "comparison.png").is_file() and (tmp_path / "report.html").is_file()


def test_an_interrupted_run_is_marked_interrupted_with_what_it_reached(tmp_path: Path) -> None:
    stopped = {"status": "interrupted", "metrics": {"val/Set5/psnr": 29.5}, "steps": 4}
    make_run(tmp_path, "stopped", ["model.n_resblocks=4"], stopped)
    make_run(tmp_path, "done", ["model.n_resblocks=8"], {**stopped, "status": "completed"})

    compare(load_config([str(tmp_path)]))

    rows = {row["run"]: row for row in read_csv(tmp_path / "comparison.csv")}
    assert rows["stopped"]["status"] == "interrupted"
    assert float(rows["stopped"]["val/Set5/psnr"]) == 29.5


def test_crops_are_hr_bicubic_and_each_runs_sr_cut_from_the_same_strip_panels(
    tmp_path: Path,
) -> None:
    done = {"status": "completed", "metrics": {"val/Set5/psnr": 30.0}, "params": 10, "steps": 2}
    for name, sr_level in (("a", 120), ("b", 140)):
        run = make_run(tmp_path, name, [f"seed={sr_level}"], done)
        levels = (0, 100, sr_level, 200)
        panels = [labelled(np.full((16, 16, 3), level, np.uint8), ("dB",)) for level in levels]
        write_image(run / "images" / "Set5_bird.png", np.concatenate(panels, axis=1))
    comparison = compare(load_config([str(tmp_path)]))

    image, crops = comparison_crops(comparison, image=None)

    assert image == "Set5_bird"
    assert [crop.label for crop in crops] == ["HR", "bicubic", "a (seed=120)", "b (seed=140)"]
    assert [int(crop.image.mean()) for crop in crops] == [200, 100, 120, 140]  # no label band
    assert crops[2].caption == "30.00 dB mean on Set5 · 11.39 dB on this crop"
    with pytest.raises(SRLabError, match="image=Set5_head: not in every run's images/"):
        comparison_crops(comparison, image="Set5_head")


def test_a_folder_of_sweeps_is_searched_and_clashing_names_get_their_sweep(tmp_path: Path) -> None:
    done = {"status": "completed", "metrics": {"val/Set5/psnr": 31.0}, "params": 10, "steps": 2}
    for sweep_name, jobs in (("2026-01-01_10-00-00", 2), ("2026-01-02_10-00-00", 1)):
        for job in range(jobs):
            make_run(tmp_path / sweep_name, str(job), [f"model.n_resblocks={job}"], done)
    (tmp_path / "2026-01-01_10-00-00" / "0" / "csv").mkdir()  # a run's own folder: not a run

    comparison = compare(load_config([str(tmp_path), f"output={tmp_path / 'out'}"]))

    assert [row[0] for row in comparison.rows] == [
        "2026-01-01_10-00-00/0",
        "2026-01-01_10-00-00/1",
        "2026-01-02_10-00-00/0",
    ]


def test_a_missing_or_empty_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SRLabError, match="no such directory"):
        compare(load_config([f"runs=[{tmp_path / 'nowhere'}]"]))
    with pytest.raises(SRLabError, match="no run directories below it"):
        compare(load_config([str(tmp_path)]))


def test_override_columns_are_named_by_their_shortest_unambiguous_ending() -> None:
    keys = ["model.n_resblocks", "model.scale", "data.scale", "module/optimizer", "seed"]
    assert short_names(keys) == ["n_resblocks", "model.scale", "data.scale", "optimizer", "seed"]


def test_runs_are_named_by_their_directory_with_as_much_path_as_tells_them_apart() -> None:
    paths = [Path("/logs/multiruns/a/0"), Path("/logs/multiruns/a/1"), Path("/logs/runs/b/0")]
    assert run_names(paths) == ["a/0", "a/1", "b/0"]
