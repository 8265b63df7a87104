"""Atomic file writes: a reader, or a crash mid-write, never sees half a file.

One helper for every result srlab writes (checkpoints, caches, images, JSON, reports): the data
goes to a temp file beside the target, is fsynced, gets the permissions a plain `open` would
give (mkstemp's 0600 would hide results from the team), and is renamed over the target.
A full disk is one line (`NoSpaceLeft`) naming the folder and the space the file needs.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from srlab.utils.errors import SRLabError


class NoSpaceLeft(SRLabError):
    """A write found the disk full; the target, if it existed, is as it was."""


@contextmanager
def atomic_path(path: str | Path, size: int | None = None) -> Iterator[Path]:
    """A temp path beside `path` to write (or have a program write); renamed over `path` on
    success, removed on failure. `size`: the bytes it will take, if known, for the message
    when the disk is full."""
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
    except Exception as error:
        if not ran_out_of_space(error):
            raise
        written = os.path.getsize(tmp)
        os.unlink(tmp)  # before the free space is read: the caller may use what it took
        previous = path.stat().st_size if path.is_file() else 0
        raise no_space_left(path, max(size or 0, written, previous)) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def ran_out_of_space(error: BaseException | None) -> bool:
    """ENOSPC anywhere in the chain: torch.save raises it as a RuntimeError while handling it."""
    while error is not None:
        if isinstance(error, OSError) and error.errno == errno.ENOSPC:
            return True
        error = error.__cause__ or error.__context__
    return False


def no_space_left(path: Path, needed: int) -> NoSpaceLeft:
    free = shutil.disk_usage(path.parent).free
    return NoSpaceLeft(
        f"no space left in {path.parent} for {path.name}: {file_size(free)} free, it needs "
        f"about {file_size(needed)}"
    )


def file_size(n_bytes: int) -> str:
    for unit, size in (("GiB", 2**30), ("MiB", 2**20)):
        if n_bytes >= size:
            return f"{n_bytes / size:.1f} {unit}"
    return f"{n_bytes / 2**10:.1f} KiB"


def remove_partial_writes(folder: Path) -> list[Path]:
    """Delete the temp files of writes a kill cut short (`.last.ckpt.x8k2_q0a.ckpt`): only
    a process that is not writing into `folder` may call this."""
    # mkstemp's names: `.{name}.` + 8 characters + the target's suffix
    partial = re.compile(r"\..+\.[a-z0-9_]{8}(\.\w+)?")
    removed = [p for p in folder.glob(".*") if p.is_file() and partial.fullmatch(p.name)]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def new_dir(parent: str | Path, name: str) -> Path:
    """`parent/name`, created now: `name_2`, `name_3`... when another process (a run or a
    sweep started in the same second) has it. mkdir is atomic: no two processes get one."""
    for number in itertools.count(1):
        path = Path(parent) / (name if number == 1 else f"{name}_{number}")
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise AssertionError("unreachable")


@contextmanager
def atomic_writer(path: str | Path, size: int | None = None) -> Iterator[IO[bytes]]:
    """A binary file handle whose content replaces `path` atomically when the block ends."""
    with atomic_path(path, size) as tmp, open(tmp, "wb") as handle:
        yield handle


def write_atomic(path: str | Path, data: bytes) -> None:
    with atomic_writer(path) as handle:
        handle.write(data)


def write_json(path: str | Path, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, indent=2, default=str).encode())
