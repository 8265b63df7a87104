"""utils/files.py: a write replaces its target whole or not at all, leaves no temp file, gives the
permissions a plain `open` gives, and says a full disk in one line. (Named for its subject:
tests/weights/test_files.py holds the tests of weights/files.py.)"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from pathlib import Path

import pytest

from srlab.utils.errors import SRLabError
from srlab.utils.files import (
    NoSpaceLeft,
    atomic_path,
    atomic_writer,
    file_size,
    ran_out_of_space,
    remove_partial_writes,
    write_atomic,
    write_json,
)


def test_a_write_replaces_the_target_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "result.bin"
    write_atomic(target, b"first")
    write_atomic(target, b"second")
    assert target.read_bytes() == b"second"
    assert [path.name for path in target.parent.iterdir()] == ["result.bin"]


def test_a_write_that_fails_midway_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "result.bin"
    write_atomic(target, b"previous")
    with pytest.raises(RuntimeError, match="midway"), atomic_writer(target) as handle:
        handle.write(b"half of the new")
        raise RuntimeError("midway")
    assert target.read_bytes() == b"previous"
    assert [path.name for path in tmp_path.iterdir()] == ["result.bin"]


def test_a_reader_sees_the_old_file_until_the_write_ends(tmp_path: Path) -> None:
    target = tmp_path / "result.bin"
    write_atomic(target, b"old")
    with atomic_writer(target) as handle:
        handle.write(b"new")
        handle.flush()
        assert target.read_bytes() == b"old"
    assert target.read_bytes() == b"new"


def test_a_program_may_write_the_temp_path_itself(tmp_path: Path) -> None:
    target = tmp_path / "shot.png"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png"  # beside it, same suffix
        tmp.write_bytes(b"written by another program")
    assert target.read_bytes() == b"written by another program"


def test_the_file_gets_the_permissions_of_a_plain_open_not_mkstemps_0600(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "atomic.txt", b"x")
        (tmp_path / "plain.txt").write_bytes(b"x")
    finally:
        os.umask(umask)
    modes = [stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("atomic.txt", "plain.txt")]
    assert modes == [0o644, 0o644]


def test_a_full_disk_is_one_user_error_naming_the_folder_and_the_previous_file_stays(
    tmp_path: Path,
) -> None:
    target = tmp_path / "last.ckpt"
    write_atomic(target, b"the previous checkpoint")
    with pytest.raises(NoSpaceLeft) as error, atomic_path(target, size=3 * 2**20) as tmp:
        tmp.write_bytes(b"part of it")
        raise OSError(errno.ENOSPC, "No space left on device")
    message = str(error.value)
    assert isinstance(error.value, SRLabError)  # printed in a few lines, not a traceback
    assert f"no space left in {tmp_path} for last.ckpt" in message
    assert "it needs about 3.0 MiB" in message and "\n" not in message
    assert target.read_bytes() == b"the previous checkpoint"
    assert [path.name for path in tmp_path.iterdir()] == ["last.ckpt"]


def test_a_full_disk_is_found_behind_the_error_that_reports_it() -> None:
    """torch.save raises a RuntimeError while it handles the OSError."""
    error = RuntimeError("unexpected pos")
    error.__context__ = OSError(errno.ENOSPC, "No space left on device")
    assert ran_out_of_space(error)
    assert not ran_out_of_space(OSError(errno.EACCES, "Permission denied"))
    assert not ran_out_of_space(None)


def test_temp_files_of_writes_cut_short_are_removed_and_nothing_else(tmp_path: Path) -> None:
    for prefix, suffix in ((".last.ckpt.", ".ckpt"), (".summary.json.", ".json")):
        fd, _ = tempfile.mkstemp(dir=tmp_path, prefix=prefix, suffix=suffix)  # as atomic_path
        os.close(fd)
    kept = [".gitignore", "last.ckpt", ".notes.txt"]
    for name in kept:
        (tmp_path / name).write_text("keep")
    (tmp_path / ".hydra").mkdir()

    removed = remove_partial_writes(tmp_path)

    assert len(removed) == 2
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted([*kept, ".hydra"])


@pytest.mark.parametrize(
    ("n_bytes", "text"),
    [(512, "0.5 KiB"), (3 * 2**20, "3.0 MiB"), (int(1.5 * 2**30), "1.5 GiB")],
)
def test_sizes_are_written_in_the_largest_unit_that_fits(n_bytes: int, text: str) -> None:
    assert file_size(n_bytes) == text


def test_json_is_written_indented_with_paths_as_strings(tmp_path: Path) -> None:
    write_json(tmp_path / "results.json", {"psnr": 30.5, "folder": tmp_path})
    text = (tmp_path / "results.json").read_text()
    assert json.loads(text) == {"psnr": 30.5, "folder": str(tmp_path)}
    assert text.startswith("{\n  ")
