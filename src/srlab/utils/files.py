"""Atomic file writes: a reader, or a crash mid-write, never sees half a file.

One helper for every result srlab writes (checkpoints, caches, images, JSON, reports): the data
goes to a temp file beside the target, is fsynced, gets the permissions a plain `open` would
give (mkstemp's 0600 would hide results from the team), and is renamed over the target.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temp path beside `path` to write (or have a program write); renamed over `path` on
    success, removed on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[IO[bytes]]:
    """A binary file handle whose content replaces `path` atomically when the block ends."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        yield handle


def write_atomic(path: str | Path, data: bytes) -> None:
    with atomic_writer(path) as handle:
        handle.write(data)


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, default=str).encode())
