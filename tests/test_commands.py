"""The nine commands, one way: each is `python -m srlab.<verb>` and the console script
`srlab-<verb>` (pyproject.toml), its usage line is a constant beside its code, and `--help` starts
with it. The commands themselves: test_train.py, test_eval.py, ..."""

from __future__ import annotations

import importlib
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from conftest import subprocess_env
from srlab.score import USAGE

COMMANDS = "train eval score prepare upscale compare bench export dashboard".split()
REINSTALL = "pyproject.toml's [project.scripts] changed? .venv/bin/pip install --no-deps -e ."


def console_scripts() -> dict[str, str]:
    """srlab's console scripts as installed: {name: "module:function"}."""
    scripts = entry_points(group="console_scripts")
    return {script.name: script.value for script in scripts if script.value.startswith("srlab.")}


def test_every_command_is_a_console_script_and_nothing_else_is() -> None:
    assert sorted(console_scripts()) == sorted(f"srlab-{verb}" for verb in COMMANDS), REINSTALL


@pytest.mark.parametrize("verb", COMMANDS)
def test_each_console_script_resolves_to_the_main_of_its_module(verb: str) -> None:
    (script,) = entry_points(group="console_scripts", name=f"srlab-{verb}")
    main = script.load()
    assert callable(main)
    assert main is importlib.import_module(f"srlab.{verb}").main


@pytest.mark.parametrize("verb", COMMANDS)
def test_each_command_gives_its_usage_as_python_beside_its_code(verb: str) -> None:
    assert importlib.import_module(f"srlab.{verb}").USAGE.startswith(f"python -m srlab.{verb}")


def test_a_console_script_prints_its_usage_docstring_and_config_groups_for_help() -> None:
    script = Path(sys.executable).parent / "srlab-score"
    assert script.is_file(), REINSTALL
    completed = subprocess.run(
        [str(script), "--help"], env=subprocess_env(), capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.startswith(f"usage: {USAGE}\n\n`python -m srlab.score`: PSNR/SSIM")
    assert "== Configuration groups ==" in completed.stdout  # then Hydra's own help


@pytest.mark.parametrize("verb", ["compare", "dashboard"])
def test_the_commands_that_are_no_hydra_job_print_their_usage_for_help(
    verb: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = importlib.import_module(f"srlab.{verb}")
    module.main(["--help"])
    assert capsys.readouterr().out.startswith(f"usage: {module.USAGE}\n\n")
