"""data/cache.py: a disk cache that cannot be read is rebuilt, and says which file."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from conftest import SET5
from srlab.data.cache import cached_decode
from srlab.data.io import read_image


@pytest.mark.parametrize("kept", [0.5, 0.01, 0.0], ids=["pixels-cut", "header-cut", "empty"])
def test_a_truncated_cache_file_is_rebuilt_with_one_line_naming_it(
    tmp_path: Path, kept: float, caplog: pytest.LogCaptureFixture
) -> None:
    image = SET5 / "bird.png"
    cached = cached_decode(image, tmp_path).filename
    data = Path(cached).read_bytes()
    Path(cached).write_bytes(data[: int(len(data) * kept)])  # a copy or a full disk cut it short
    with caplog.at_level(logging.WARNING, logger="srlab.data.cache"):
        rebuilt = cached_decode(image, tmp_path)
    np.testing.assert_array_equal(rebuilt, read_image(image))
    (record,) = caplog.records
    assert f"cache {cached} cannot be read" in record.getMessage()
    assert record.getMessage().endswith("rebuilding it")
