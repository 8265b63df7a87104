"""`degradation=` end to end: a run trains and validates on its degradation's LR and names it in
summary.json; srlab.compare names it when runs differ in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from conftest import compose_train
from helpers.comparisons import completed_summary, make_run, read_csv
from srlab.compare import compare, load_config
from srlab.data.blind import Blind
from srlab.eval import evaluate
from srlab.train import train
from srlab.utils.hydra import compose_config

# eval model=bicubic scale=3 degradation=bd data.sets=[Set5]: RDN's Table 3 has 28.78 / 0.8308
SET5_BD_BICUBIC_X3 = 28.79128770990326


def test_a_run_validates_on_its_degradations_lr_and_names_it_in_its_summary(tmp_path: Path):
    steps = ["trainer.max_steps=2", "trainer.val_check_interval=2", "logger=none"]
    train(compose_train(tmp_path, [*steps, "scale=3", "degradation=bd"]))
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["degradation"] == "bd_sigma1.6"
    evaluated = evaluate(
        compose_config(
            "eval",
            ["model=bicubic", "scale=3", "degradation=bd", "device=cpu", "output=null"],
        )
    )
    logged = summary["metrics"]
    assert evaluated["Set5"]["psnr"] == pytest.approx(logged["val/Set5/bicubic_psnr"], abs=1e-9)
    assert evaluated["Set5"]["psnr"] == pytest.approx(SET5_BD_BICUBIC_X3, abs=1e-9)


def test_compare_names_the_degradation_that_runs_differ_in(tmp_path: Path) -> None:
    for name, degradation, psnr in (("a", "bicubic", 30.0), ("b", "bd", 29.0)):
        run = make_run(tmp_path / "sweep", name, [f"degradation={degradation}"], None)
        summary = completed_summary(psnr, 0.8, 10.0, 1000)
        (run / "summary.json").write_text(json.dumps(summary))
        hydra = OmegaConf.load(run / ".hydra" / "hydra.yaml")  # as Hydra records a group choice
        hydra.hydra.runtime.choices.degradation = degradation
        OmegaConf.save(hydra, run / ".hydra" / "hydra.yaml")
    compare(load_config([str(tmp_path / "sweep"), f"output={tmp_path}"]))
    rows = read_csv(tmp_path / "comparison.csv")
    assert {row["run"]: row["degradation"] for row in rows} == {"a": "bicubic", "b": "bd"}


def test_a_blind_run_trains_on_lr_made_from_each_batch(tmp_path: Path, monkeypatch) -> None:
    batch_sizes = []
    made = Blind.degrade_batch

    def counted(self, hr, scale, generator=None):
        batch_sizes.append(len(hr))
        return made(self, hr, scale, generator)

    monkeypatch.setattr(Blind, "degrade_batch", counted)
    steps = ["trainer.max_steps=2", "trainer.val_check_interval=2", "logger=none"]
    train(compose_train(tmp_path, [*steps, "degradation=blind", "data.batch_size=3"]))
    assert batch_sizes.count(3) == 2  # each training step's batch (validation: one image each)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["degradation"] == "blind"
    assert summary["metrics"]["val/Set5/bicubic_psnr"] < 30  # Set5 x2 bicubic: 33.7 dB
