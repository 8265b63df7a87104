"""training/checkpoints.py: the best checkpoint holds the weights that were validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from conftest import compose_train
from srlab.eval import evaluate
from srlab.train import train
from srlab.utils.hydra import config_dir


def test_the_best_checkpoint_is_the_validated_step_when_periodic_saves_coincide(
    tmp_path: Path,
) -> None:
    # steps 4 and 8 are periodic saves and validations both; PSNR improves at each validation
    cfg = compose_train(
        tmp_path,
        [
            "trainer.max_steps=8",
            "trainer.val_check_interval=4",
            "callbacks.model_checkpoint.every_n_train_steps=2",
            "module.scheduler.warmup_steps=0",
            "logger=none",
        ],
    )
    train(cfg)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    psnrs = [h["val/Set5/psnr"] for h in summary["history"]]
    assert psnrs == sorted(psnrs) and summary["best_step"] == 8
    (best,) = (tmp_path / "run" / "checkpoints").glob("best-*.ckpt")
    assert torch.load(best, weights_only=True)["global_step"] == summary["best_step"]
    # last.ckpt, saved at step 8 before the validation too, holds the validation: a resume keeps it
    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    assert [h["step"] for h in last["callbacks"]["RunSummary"]["history"]] == [4, 8]

    overrides = [f"ckpt_path={best}", f"output={tmp_path / 'results.json'}", "device=cpu"]
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        results = evaluate(compose("eval", overrides=overrides))
    assert results["Set5"]["psnr"] == pytest.approx(summary["metrics"]["val/Set5/psnr"], abs=1e-6)
