"""The degradation study's table: rows the training degradation (its seeds pooled), columns the
evaluation one, read from each run's eval/<degradation>/results.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from helpers.comparisons import completed_summary, make_run, read_csv
from srlab.reporting.degradations import (
    BASELINE,
    csv_text,
    gap_table,
    markdown,
    write_gap_table,
)
from srlab.reporting.runs import load_runs
from srlab.reporting.stats import Spread
from srlab.utils.errors import SRLabError

EVALUATED_ON = ("bicubic", "bd")
# training degradation -> per seed, Set5 PSNR under (bicubic, bd); exact in binary floats
PSNR = {"bicubic": [(36.0, 30.0), (35.0, 30.5)], "bd": [(33.0, 35.0), (34.0, 36.0)]}


def write_results(folder: Path, psnr: float) -> None:
    folder.mkdir(parents=True)
    results = {"Set5": {"psnr": psnr, "ssim": psnr / 40, "images": 5}, "cost": {"params": 1}}
    (folder / "results.json").write_text(json.dumps(results))


def degradation_sweep(root: Path) -> Path:
    """A sweep as `degradation=bicubic,bd seed=0,1` writes it (the choice in .hydra/hydra.yaml),
    each run evaluated under EVALUATED_ON as run.sh does."""
    job = 0
    for trained, seeds in PSNR.items():
        for seed, scores in enumerate(seeds):
            run = make_run(
                root,
                str(job),
                [f"degradation={trained}", f"seed={seed}"],
                completed_summary(scores[0], 0.9, 10.0, params=100),
                config={"degradation": {"_target_": f"srlab.data.degradation.{trained}"}},
            )
            hydra = OmegaConf.load(run / ".hydra" / "hydra.yaml")
            hydra.hydra.runtime.choices.degradation = trained
            OmegaConf.save(hydra, run / ".hydra" / "hydra.yaml")
            for evaluated, psnr in zip(EVALUATED_ON, scores, strict=True):
                write_results(run / "eval" / evaluated, psnr)
            job += 1
    return root


def test_a_row_per_training_degradation_pools_its_seeds_per_evaluation_degradation(
    tmp_path: Path,
) -> None:
    table = gap_table(load_runs([degradation_sweep(tmp_path)]), EVALUATED_ON)

    assert table.trained_on == ["bicubic", "bd"] and table.sets == ["Set5"]
    assert table.psnr("bicubic", "bicubic", "Set5") == Spread(35.5, 0.5**0.5, 2)
    assert table.psnr("bicubic", "bd", "Set5") == Spread(30.25, 0.125**0.5, 2)
    assert table.psnr("bd", "bd", "Set5") == Spread(35.5, 0.5**0.5, 2)
    assert table.cells["bd", "bicubic", "Set5"]["ssim"].mean == pytest.approx(33.5 / 40)
    # the gap: below the column's best net
    assert table.gap("bicubic", "bicubic", "Set5") == 0.0
    assert table.gap("bd", "bicubic", "Set5") == -2.0
    assert table.gap("bicubic", "bd", "Set5") == -5.25


def test_markdown_and_csv_say_the_cells_with_the_papers_names(tmp_path: Path) -> None:
    sweep = degradation_sweep(tmp_path / "sweep")
    write_results(tmp_path / "baseline" / "bicubic", 33.0)
    write_results(tmp_path / "baseline" / "bd", 29.0)
    table = gap_table(load_runs([sweep]), EVALUATED_ON, tmp_path / "baseline")

    write_gap_table(table, tmp_path, "the study")

    text = (tmp_path / "table.md").read_text()
    assert text == markdown(table, "the study") and text.startswith("# the study\n\n")
    assert "| trained on ↓ / evaluated on → | BI | BD |" in text
    assert f"| {BASELINE} | 33.00 | 29.00 |" in text
    assert "| BI (n=2) | 35.50 ± 0.71 | 30.25 ± 0.35 |" in text
    assert "| BD | -2.00 | +0.00 |" in text
    rows = read_csv(tmp_path / "table.csv")
    assert (tmp_path / "table.csv").read_text() == csv_text(table)
    assert len(rows) == 3 * 2  # baseline and two nets, two evaluation degradations
    baseline = rows[0]
    assert (baseline["trained_on"], baseline["evaluated_on"], baseline["n"]) == (
        BASELINE,
        "bicubic",
        "1",
    )
    assert baseline["psnr_std"] == baseline["gap_db"] == ""
    bd_on_bd = rows[-1]
    assert float(bd_on_bd["psnr_mean"]) == 35.5 and float(bd_on_bd["gap_db"]) == 0.0


def test_a_run_without_an_evaluation_names_the_missing_file(tmp_path: Path) -> None:
    sweep = degradation_sweep(tmp_path)
    (sweep / "1" / "eval" / "bd" / "results.json").unlink()

    with pytest.raises(SRLabError, match=r"/1/eval/bd/results.json not found.*degradation=bd"):
        gap_table(load_runs([sweep]), EVALUATED_ON)
