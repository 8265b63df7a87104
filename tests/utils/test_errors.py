"""utils/errors.py: a user mistake is one exception type, SRLabError, that every entry point
prints in a few lines (exit status 1); anything else is a bug and keeps its traceback."""

from __future__ import annotations

import pytest

from srlab.utils.entry import run_entry_point
from srlab.utils.errors import SRLabError


def fails(message: str):
    def function(cfg: object) -> None:
        raise SRLabError(message)

    return function


def test_a_user_mistake_is_printed_as_one_error_line_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = "Set14 not found under data/benchmarks/Set14; pass data.sets=..."
    with pytest.raises(SystemExit) as stopped:
        run_entry_point(fails(message), {})
    assert stopped.value.code == 1
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", f"error: {message}\n")


def test_brackets_in_a_message_are_printed_as_written_not_as_markup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        run_entry_point(fails("pip install 'srlab[zoo]'; data.sets=[Set5]"), {})
    assert "pip install 'srlab[zoo]'; data.sets=[Set5]" in capsys.readouterr().err


def test_a_bug_keeps_its_traceback() -> None:
    def broken(cfg: object) -> None:
        raise KeyError("not a user mistake")

    with pytest.raises(KeyError, match="not a user mistake"):
        run_entry_point(broken, {})


def test_what_the_function_returns_is_returned() -> None:
    assert run_entry_point(lambda cfg: {"psnr": 30.5}, {}) == {"psnr": 30.5}
