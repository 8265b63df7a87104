"""Runs that differ only in seed are one row: mean ± std and n in the Markdown, CSV and terminal
tables, each setting's difference from the first with its Welch interval; a single seed keeps
the old table."""

from __future__ import annotations

from pathlib import Path

import pytest
from scipy import stats

from helpers.comparisons import (
    LONG_DIR,
    PSNR,
    SEEDS,
    SSIM,
    completed_summary,
    make_run,
    read_csv,
    runs_of_many_settings,
    seed_sweep,
)
from srlab.compare import compare, load_config
from srlab.reporting.stats import Spread


def test_runs_that_differ_only_in_seed_are_one_row_with_mean_std_and_n(tmp_path: Path) -> None:
    comparison = compare(load_config([str(seed_sweep(tmp_path, SEEDS))]))

    assert comparison.columns == [
        "run",
        PSNR,
        SSIM,
        "status",
        "n",
        "params",
        "steps",
        "wall_s",
        "n_resblocks",
    ]
    psnr, ssim = comparison.columns.index(PSNR), comparison.columns.index(SSIM)
    assert [[row[0], *row[3:]] for row in comparison.rows] == [
        ["0, 1, 2", "completed", 3, 2000, 4, 12.0, "2"],
        ["3, 4, 5", "completed", 3, 8000, 4, 24.0, "8"],
    ]
    assert [row[psnr] for row in comparison.rows] == [Spread(31.0, 1.0, 3), Spread(34.0, 2.0, 3)]
    assert [row[ssim] for row in comparison.rows] == [Spread(0.75, 0.25, 3), Spread(0.5, 0.0, 3)]
    markdown = (tmp_path / "comparison.md").read_text()
    assert "| 0, 1, 2 | 31.00 ± 1.00 | 0.7500 ± 0.2500 | completed | 3 | 2000 | 4 | 12.0 | 2 |" in (
        markdown
    )


def test_the_csv_has_a_mean_and_a_std_column_per_metric_and_n(tmp_path: Path) -> None:
    compare(load_config([str(seed_sweep(tmp_path, SEEDS))]))

    rows = read_csv(tmp_path / "comparison.csv")

    assert list(rows[0]) == [
        "run",
        f"{PSNR}_mean",
        f"{PSNR}_std",
        f"{SSIM}_mean",
        f"{SSIM}_std",
        "status",
        "n",
        "params",
        "steps",
        "wall_s_mean",
        "n_resblocks",
    ]
    assert [row["n"] for row in rows] == ["3", "3"]
    assert [float(row[f"{PSNR}_mean"]) for row in rows] == [31.0, 34.0]
    assert [float(row[f"{PSNR}_std"]) for row in rows] == [1.0, 2.0]
    assert [float(row["wall_s_mean"]) for row in rows] == [12.0, 24.0]


def test_two_settings_give_the_difference_of_mean_psnr_with_its_welch_interval(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeds = {"2": SEEDS["2"], "8": [*SEEDS["8"], (33.0, 0.5, 20.0)]}  # 3 and 4 seeds
    compare(load_config([str(seed_sweep(tmp_path, seeds))]))
    low, high = stats.ttest_ind(
        [34.0, 32.0, 36.0, 33.0], [30.0, 31.0, 32.0], equal_var=False
    ).confidence_interval(0.95)

    note = (
        f"Set5 PSNR, n_resblocks=8 − n_resblocks=2: +2.75 dB, 95% interval [{low:+.2f}, "
        f"{high:+.2f}] dB (Welch's t, "
    )
    assert note in (tmp_path / "comparison.md").read_text()
    assert note in capsys.readouterr().out.replace("\n", " ")


def test_every_setting_is_compared_with_the_first_one(tmp_path: Path) -> None:
    """A 3-variant study: each later variant's difference from the first (the sweep's baseline),
    and none between the later two."""
    seeds = {**SEEDS, "16": [(31.0, 0.5, 40.0), (31.5, 0.5, 41.0), (30.5, 0.5, 42.0)]}
    compare(load_config([str(seed_sweep(tmp_path, seeds))]))
    text = (tmp_path / "comparison.md").read_text()

    for other, values in (("8", SEEDS["8"]), ("16", seeds["16"])):
        low, high = stats.ttest_ind(
            [v[0] for v in values], [v[0] for v in SEEDS["2"]], equal_var=False
        ).confidence_interval(0.95)
        assert f"n_resblocks={other} − n_resblocks=2: " in text
        assert f"interval [{low:+.2f}, {high:+.2f}] dB" in text
    assert "n_resblocks=16 − n_resblocks=8" not in text


def test_a_seed_set_in_the_config_not_the_command_line_is_averaged_over_too(
    tmp_path: Path,
) -> None:
    done = completed_summary(30.0, 0.5, 1.0, params=10)
    for job, seed in enumerate((1, 2)):  # as an experiment file that sets `seed:` would
        make_run(tmp_path, str(job), ["model.n_resblocks=2"], done, config={"seed": seed})

    comparison = compare(load_config([str(tmp_path)]))

    assert len(comparison.rows) == 1 and comparison.rows[0][0] == "0, 1"
    assert comparison.settings[0].label == "0 (n=2)"


def test_a_setting_whose_seeds_did_not_all_complete_says_so_in_its_status(
    tmp_path: Path,
) -> None:
    make_run(tmp_path, "0", ["seed=0"], completed_summary(30.0, 0.5, 1.0, params=10))
    make_run(tmp_path, "1", ["seed=1"], {"status": "interrupted", "metrics": {}, "steps": 2})

    comparison = compare(load_config([str(tmp_path)]))

    assert comparison.rows[0][comparison.columns.index("status")] == "1× completed; 1× interrupted"
    assert comparison.rows[0][comparison.columns.index(PSNR)] == Spread(30.0, None, 1)
    assert comparison.rows[0][comparison.columns.index("steps")] == "2–4"


def test_one_seed_per_setting_keeps_the_table_of_single_runs(tmp_path: Path) -> None:
    single = {blocks: values[:1] for blocks, values in SEEDS.items()}
    compare(load_config([str(seed_sweep(tmp_path, single))]))

    assert (tmp_path / "comparison.md").read_text() == (
        f"# Comparison: 2 runs of {tmp_path}\n\n"
        "| run | val/Set5/psnr | val/Set5/ssim | status | params | steps | wall_s | n_resblocks |\n"
        "|---:|---:|---:|:---|---:|---:|---:|---:|\n"
        "| 0 | 30.00 | 0.5000 | completed | 2000 | 4 | 10.0 | 2 |\n"
        "| 1 | 32.00 | 0.5000 | completed | 8000 | 4 | 20.0 | 8 |\n"
    )
    assert (tmp_path / "comparison.csv").read_text() == (
        "run,val/Set5/psnr,val/Set5/ssim,status,params,steps,wall_s,n_resblocks\n"
        "0,30.0,0.5,completed,2000,4,10.0,2\n"
        "1,32.0,0.5,completed,8000,4,20.0,8\n"
    )


def test_many_runs_show_metrics_first_and_a_few_settings_with_long_paths_shortened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comparison = compare(load_config([str(runs_of_many_settings(tmp_path))]))

    assert comparison.columns[:4] == ["run", PSNR, SSIM, "status"]
    assert len(comparison.setting_columns) == 9 and comparison.columns[-9:] == (
        comparison.setting_columns
    )
    printed = capsys.readouterr().out
    header = next(line for line in printed.splitlines() if "run" in line and "status" in line)
    assert [name for name in comparison.columns if f" {name} " in header] == [
        "run", PSNR, SSIM, "status", "params", "steps", "wall_s",
        *comparison.setting_columns[:3],
    ]  # fmt: skip
    hidden = ", ".join(comparison.setting_columns[3:])
    assert f"6 more settings differ ({hidden}): see comparison.md" in printed
    markdown = (tmp_path / "comparison.md").read_text()
    assert "| …/DIV2K/DIV2K_train_HR_0 |" in markdown and LONG_DIR not in markdown
    assert f"{LONG_DIR}/DIV2K_train_HR_0" in (tmp_path / "comparison.csv").read_text()
