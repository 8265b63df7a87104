"""Training samples/s that a DataLoader delivers, in steady state, epoch after epoch."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from torch.utils.data import DataLoader


def endless(loader: Iterable[Any]) -> Iterator[Any]:
    """Batches epoch after epoch, as training draws them."""
    while True:
        yield from loader


def draw_batches(loader: DataLoader, count: int) -> list[dict[str, Any]]:
    """`count` batches, kept (the pre-made batches both training loops are fed)."""
    return list(itertools.islice(endless(loader), count))


def loader_samples_per_s(
    loader: DataLoader,
    warmup_batches: int,
    batches: int,
    on_device: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> float:
    """Samples/s over `batches` batches, after `warmup_batches` untimed ones (worker start-up,
    the prefetch queue filling). The main process only takes batches (and runs `on_device`, the
    data's work after the batch reached the device: a degradation made on batches): the figure
    is what the data side can deliver, not slowed by a model competing for the cores."""
    stream = endless(loader)
    finish = on_device or (lambda batch: batch)
    for _ in range(warmup_batches):
        finish(next(stream))
    samples = 0
    start = time.perf_counter()
    for _ in range(batches):
        samples += len(finish(next(stream))["hr"])
    return samples / (time.perf_counter() - start)
