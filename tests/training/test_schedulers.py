"""training/schedulers.py: warm-up, cosine and multi-step decay, and resuming from a state dict."""

import math

import pytest
import torch
from torch.optim.lr_scheduler import LRScheduler

from srlab.training.schedulers import WarmupCosine, WarmupMultiStep

BASE_LR = 1e-3


def _optimizer() -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR)


def _step(optimizer: torch.optim.Optimizer, scheduler: LRScheduler, n_steps: int) -> list[float]:
    """The rate used at each of `n_steps` training steps, as Lightning steps them."""
    rates = []
    for _ in range(n_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def _cosine(optimizer):
    return WarmupCosine(optimizer, total_steps=25, warmup_steps=5, min_lr_ratio=0.1)


def _multistep(optimizer):
    return WarmupMultiStep(optimizer, milestones=[8, 15], gamma=0.5, warmup_steps=4)


def test_cosine_warms_up_linearly():
    optimizer = _optimizer()
    rates = _step(optimizer, _cosine(optimizer), 5)
    assert rates == pytest.approx([BASE_LR * (step + 1) / 5 for step in range(5)])


def test_cosine_decays_from_base_to_min_ratio_at_total_steps():
    optimizer = _optimizer()
    rates = _step(optimizer, _cosine(optimizer), 31)
    decay = rates[5:26]
    assert decay[0] == pytest.approx(BASE_LR)
    assert all(a > b for a, b in zip(decay, decay[1:], strict=False))
    assert rates[15] == pytest.approx(BASE_LR * (0.1 + 0.9 * 0.5))  # halfway: cos = 0
    assert rates[25] == pytest.approx(0.1 * BASE_LR)
    assert rates[25:] == pytest.approx([0.1 * BASE_LR] * 6)  # stays at the floor after


def test_cosine_follows_the_cosine_curve():
    optimizer = _optimizer()
    rates = _step(optimizer, _cosine(optimizer), 26)
    progress = [(step - 5) / 20 for step in range(5, 26)]
    expected = [BASE_LR * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p))) for p in progress]
    assert rates[5:] == pytest.approx(expected)


def test_cosine_without_warmup_starts_at_the_base_rate():
    optimizer = _optimizer()
    rates = _step(optimizer, WarmupCosine(optimizer, total_steps=10), 11)
    assert rates[0] == pytest.approx(BASE_LR)
    assert rates[10] == pytest.approx(0.0)


def test_multistep_multiplies_by_gamma_at_each_milestone():
    optimizer = _optimizer()
    rates = _step(optimizer, _multistep(optimizer), 20)
    assert rates[:4] == pytest.approx([BASE_LR * (step + 1) / 4 for step in range(4)])
    assert rates[4:8] == pytest.approx([BASE_LR] * 4)
    assert rates[8:15] == pytest.approx([BASE_LR * 0.5] * 7)
    assert rates[15:] == pytest.approx([BASE_LR * 0.25] * 5)


@pytest.mark.parametrize("make_scheduler", [_cosine, _multistep], ids=["cosine", "multistep"])
@pytest.mark.parametrize("resume_at", [3, 12])
def test_resuming_from_state_dicts_continues_the_same_schedule(make_scheduler, resume_at):
    optimizer = _optimizer()
    uninterrupted = _step(optimizer, make_scheduler(optimizer), 30)

    optimizer = _optimizer()
    scheduler = make_scheduler(optimizer)
    first = _step(optimizer, scheduler, resume_at)
    saved = {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}

    # A fresh process: build both, then load the checkpoint (optimizer first, as Lightning does).
    optimizer = _optimizer()
    scheduler = make_scheduler(optimizer)
    optimizer.load_state_dict(saved["optimizer"])
    scheduler.load_state_dict(saved["scheduler"])
    rest = _step(optimizer, scheduler, 30 - resume_at)
    assert first + rest == pytest.approx(uninterrupted)
