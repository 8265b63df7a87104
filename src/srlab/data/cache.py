"""Decode images once: in memory, or as .npy files memory-mapped by every worker and rank."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.progress import Progress

from srlab.data.io import read_image
from srlab.utils.errors import SRLabError
from srlab.utils.files import atomic_writer

log = logging.getLogger(__name__)


def cached_array(cached: Path, make: Callable[[], np.ndarray]) -> np.ndarray:
    """`make()` as a read-only memory map of `cached`, written once (atomically), and again
    when it cannot be read (cut short by a copy or a full disk)."""
    if cached.exists():
        try:
            return np.load(cached, mmap_mode="r")
        except (ValueError, EOFError) as error:  # numpy names no file
            log.warning("cache %s cannot be read (%s): rebuilding it", cached, error)
    with atomic_writer(cached) as handle:
        np.save(handle, make())
    return np.load(cached, mmap_mode="r")


def cached_decode(path: Path, cache_dir: Path) -> np.ndarray:
    """The image as a read-only memory map; decoded once into `cache_dir`."""
    stat = path.stat()
    cached = cache_dir / f"{path.stem}.{stat.st_size}.{int(stat.st_mtime)}.npy"
    return cached_array(cached, lambda: read_image(path))


def load_images(
    files: list[Path],
    what: str,
    cache_dir: str | Path | None = None,
    skip_bad_images: bool = False,
) -> dict[str, np.ndarray]:
    """Decode `files` (stem -> uint8 HWC); a bad file is an error, or skipped with a warning."""
    images: dict[str, np.ndarray] = {}
    with Progress(transient=True) as progress:
        for path in progress.track(files, description=f"decoding {what}"):
            try:
                images[path.stem] = (
                    cached_decode(path, Path(cache_dir)) if cache_dir else read_image(path)
                )
            except SRLabError as error:
                if not skip_bad_images:
                    raise
                log.warning("skipping %s", error)
    if not images:
        raise SRLabError(f"{what}: none of the {len(files)} images could be read")
    return images
