"""The nine commands, one way: each is `python -m srlab.<verb>` and the console script
`srlab-<verb>` (pyproject.toml), its usage line is a constant beside its code, and `--help` starts
with it. The commands themselves: test_train.py, test_eval.py, ..."""

from __future__ import annotations

import contextlib
import importlib
import json
import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from conftest import subprocess_env
from srlab.score import USAGE
from srlab.utils.entry import GROUP_HELP, check_command_line, config_groups

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
    assert completed.stdout.startswith("`python -m srlab.score`: PSNR/SSIM")
    assert f"\n\nusage: {USAGE}\n\n" in completed.stdout
    assert "== Configuration groups ==" in completed.stdout  # then Hydra's own help


@pytest.mark.parametrize("verb", COMMANDS)
def test_help_starts_with_what_it_does_its_groups_and_three_examples_before_hydras(
    verb: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module(f"srlab.{verb}")
    monkeypatch.setattr(sys, "argv", [f"srlab-{verb}", "--help"])
    with contextlib.suppress(SystemExit):  # Hydra's help exits 0
        module.main()
    printed = capsys.readouterr().out
    does, usage, *rest = printed.split("\n\n")
    assert does.startswith(f"`python -m srlab.{verb}") and len(does) > 40
    assert usage == f"usage: {module.USAGE}"
    blocks = {block.splitlines()[0]: block.splitlines()[1:] for block in rest if block}
    groups = blocks.get("config groups (group=option; the options are listed further down):", [])
    assert all(re.fullmatch(r"  [\w/]+ +\w.* \(default: [\w.]+\)", line) for line in groups), groups
    assert [line.strip() for line in blocks["examples:"]] == list(module.EXAMPLES)
    assert len(module.EXAMPLES) == 3
    assert all(example.startswith(f"python -m srlab.{verb}") for example in module.EXAMPLES)
    if "== Configuration groups ==" in printed:  # the Hydra jobs: Hydra's own help after
        assert printed.index("examples:") < printed.index("== Configuration groups ==")


def test_every_config_group_of_every_command_has_its_line() -> None:
    for verb in COMMANDS:
        for line in config_groups(verb):
            group = line.split()[0]
            assert GROUP_HELP.get(group), f"{verb}: conf/{group}/ has no line in GROUP_HELP"


@pytest.mark.parametrize(
    ("verb", "option", "said"),
    [
        ("train", "model=resnet", "model=resnet: no such option; did you mean resnet_sr"),
        ("train", "module/loss=l2", "module/loss=l2: no such option; did you mean l1?"),
        ("dashboard", "logger=tensorbord", "did you mean tensorboard?"),
    ],
)
def test_a_wrong_option_gets_the_closest_ones(
    verb: str, option: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    module = importlib.import_module(f"srlab.{verb}")
    with pytest.raises(SystemExit) as stopped:
        if verb == "dashboard":  # no Hydra job: composed by srlab
            module.main([option])
        else:
            check_command_line(verb, [option])
    assert stopped.value.code == 1
    error = capsys.readouterr().err
    assert said in error and "Traceback" not in error
    assert len(error.strip().splitlines()) <= 3


# What only a job needs: a mistake on the command line is printed before any of it loads.
JOB_ONLY = {"lightning", "torchmetrics", "onnx", "onnxruntime", "spandrel", "wandb", "mlflow"}
JOB_ONLY |= {"tensorboard", "tensorboardX", "albumentations"}
# Each command line in turn, in one fresh interpreter: its exit status, and the packages loaded by
# then (a later command's include the earlier ones': the first to load one is the culprit).
LOADED_AT_THE_ERROR = """
import importlib, json, sys
loaded = {}
for command in json.loads(sys.argv[1]):
    sys.argv = command.split()
    try:
        importlib.import_module(sys.argv[0]).main()
        status = 0
    except SystemExit as stop:
        status = stop.code
    loaded[command] = [status, sorted({name.partition(".")[0] for name in sys.modules})]
print(json.dumps(loaded))
"""


def test_a_mistake_on_the_command_line_is_printed_before_lightning_onnx_or_a_logger_loads() -> None:
    # train's first, and needs no torch at all
    commands = ["srlab.train model=resnet", "srlab.train trainer.max_stepz=5"]
    commands += [f"srlab.{verb} nosuchkey=1" for verb in COMMANDS if verb != "train"]
    completed = subprocess.run(
        [sys.executable, "-c", LOADED_AT_THE_ERROR, json.dumps(commands)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    loaded = json.loads(completed.stdout.splitlines()[-1])
    assert "torch" not in loaded["srlab.train trainer.max_stepz=5"][1]
    assert {
        command: [status, sorted(JOB_ONLY.intersection(names))]
        for command, (status, names) in loaded.items()
    } == {command: [1, []] for command in commands}
