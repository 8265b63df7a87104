"""utils/entry.py: what every command shares: its usage line in a missing key's message and at
the top of `--help`, and the command line of a command that is no Hydra job (compare,
dashboard) composed like the others'."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from srlab.utils.entry import compose_arguments, compose_entry_point, run_entry_point
from srlab.utils.errors import SRLabError

USAGE = "python -m srlab.compare <sweep dir or run dirs...>"


def test_a_key_nobody_set_is_named_with_the_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = OmegaConf.create({"sr_dir": "???"})
    with pytest.raises(SystemExit):
        run_entry_point(lambda cfg: cfg.sr_dir, cfg, "python -m srlab.score sr_dir=...")
    assert capsys.readouterr().err == (
        "error: sr_dir is not set; pass sr_dir=... (usage: python -m srlab.score sr_dir=...)\n"
    )


def test_bare_arguments_and_existing_paths_go_to_the_list_key(tmp_path) -> None:
    odd = tmp_path / "lr=1e-3"  # a folder whose name looks like an override
    odd.mkdir()
    cfg = compose_arguments(
        "compare", ["sweep_a", str(odd), "html=true", "runs=[sweep_b]"], USAGE, "runs"
    )
    assert list(cfg.runs) == ["sweep_b", "sweep_a", str(odd)]
    assert cfg.html is True


def test_a_bad_argument_is_a_user_error_with_the_usage_not_hydras_search_path() -> None:
    with pytest.raises(SRLabError) as error:
        compose_arguments("dashboard", ["logger=nope"], "python -m srlab.dashboard [port=N]")
    message = str(error.value)
    assert "logger=nope: no such option" in message and "tensorboard" in message  # the choices
    assert message.endswith("\nusage: python -m srlab.dashboard [port=N]")
    assert "Config search path" not in message


def test_help_prints_what_it_does_then_the_usage_and_runs_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran = []
    main = compose_entry_point("compare", ran.append, USAGE, "What compare does.\n")
    main(["--help"])
    assert capsys.readouterr().out == f"What compare does.\n\nusage: {USAGE}\n\n"
    assert ran == []


@pytest.mark.parametrize(("result", "status"), [(3, 3), ({"a": 1}, 0), (None, 0)])
def test_an_int_result_is_the_exit_status_and_anything_else_exits_0(result, status) -> None:
    main = compose_entry_point("compare", lambda cfg: result, USAGE, "")
    with pytest.raises(SystemExit) as stopped:
        main(["html=true"])
    assert stopped.value.code == status
