"""training/module.py: SRModule builds its net from a module or a partial, and keeps an EMA of
the weights with the configured decay."""

from __future__ import annotations

import functools
from typing import Any

import lightning as L
import pytest
import torch
from torch import nn
from torch.nn.utils import parameters_to_vector
from torch.utils.data import DataLoader

from srlab.models.resnet_sr import ResNetSR
from srlab.training.losses import WeightedLoss
from srlab.training.module import SRModule
from srlab.utils.errors import SRLabError

TINY_NET = functools.partial(ResNetSR, scale=2, n_resblocks=2, n_feats=8)


def sr_module(net: nn.Module | functools.partial, **options) -> SRModule:
    return SRModule(
        net=net,
        loss=WeightedLoss({"l1": nn.L1Loss()}),
        optimizer=functools.partial(torch.optim.Adam, lr=1e-2),
        scale=2,
        **options,
    )


class WeightsAfterEachStep(L.Callback):
    """The net's weights after each optimizer step, as one vector per step."""

    def __init__(self) -> None:
        self.steps: list[torch.Tensor] = []

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: SRModule, *args: Any) -> None:
        self.steps.append(parameters_to_vector(pl_module.net.parameters()).detach().clone())


def fit(module: SRModule, steps: int) -> list[torch.Tensor]:
    """`steps` real training steps on random patches; the net's weights after each."""
    generator = torch.Generator().manual_seed(0)
    batches = [
        {
            "lr": torch.rand(2, 3, 8, 8, generator=generator),
            "hr": torch.rand(2, 3, 16, 16, generator=generator),
        }
        for _ in range(steps)
    ]
    recorder = WeightsAfterEachStep()
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=steps,
        limit_val_batches=0,
        logger=False,
        callbacks=[recorder],
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, train_dataloaders=DataLoader(batches, batch_size=None))
    return recorder.steps


@pytest.mark.parametrize(("built", "decay"), [(True, 0.9), (False, 0.5)], ids=["module", "partial"])
def test_the_ema_averages_the_weights_of_each_step_with_the_configured_decay(
    built: bool, decay: float
) -> None:
    module = sr_module(TINY_NET() if built else TINY_NET, ema_decay=decay)
    steps = fit(module, steps=3)
    expected = steps[0]  # the first update copies the weights
    for weights in steps[1:]:
        expected = decay * expected + (1 - decay) * weights
    ema = parameters_to_vector(module.ema.module.parameters())
    assert not torch.allclose(ema, steps[-1], rtol=0, atol=1e-4)  # the steps did move the net
    torch.testing.assert_close(ema, expected, rtol=0, atol=1e-6)
    assert int(module.ema.n_averaged) == 3
    assert module.eval_net is module.ema.module  # validation (and eval) use the average


def test_without_ema_decay_there_is_no_ema_and_the_net_is_validated() -> None:
    module = sr_module(TINY_NET)
    fit(module, steps=1)
    assert module.ema is None and module.eval_net is module.net
    assert not any(key.startswith("ema.") for key in module.state_dict())


def test_a_partial_net_is_built_and_its_config_kept_for_checkpoints() -> None:
    module = sr_module(TINY_NET)
    assert isinstance(module.net, ResNetSR)
    assert module.net_config == {
        "_target_": "srlab.models.resnet_sr.ResNetSR",
        "scale": 2,
        "n_resblocks": 2,
        "n_feats": 8,
    }
    assert sr_module(TINY_NET()).net_config is None  # a built net: nothing to rebuild it from


def test_an_unknown_nan_policy_names_the_key_and_the_choices() -> None:
    with pytest.raises(SRLabError, match=r"module.nan_policy='ignore': choose fail or skip"):
        sr_module(TINY_NET, nan_policy="ignore")
