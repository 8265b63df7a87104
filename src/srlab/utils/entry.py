"""What every entry point shares: `main` (`hydra_entry_point`, or `compose_entry_point` for a
command that is no Hydra job), `--help` that starts with what the command does, its usage, its
config groups (one line each) and three examples, user mistakes printed in a few lines with exit
status 1 (a wrong option or key with the closest valid ones); in a multirun a failed job returns
None so that the other jobs go on. Each command gives its usage line and examples as constants,
`USAGE` and `EXAMPLES`, beside its code."""

from __future__ import annotations

import difflib
import logging
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from typing import Any

from omegaconf.errors import MissingMandatoryValue
from rich.console import Console
from rich.markup import escape

from srlab.utils.errors import SRLabError

log = logging.getLogger("srlab")


def in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


# What each config group chooses, for `--help` (one line a group; a new group gets its line here).
GROUP_HELP = {
    "model": "the net: its family and sizes",
    "module": "the LightningModule: what it validates, EMA",
    "module/loss": "the training loss",
    "module/optimizer": "the optimizer",
    "module/scheduler": "the learning-rate schedule",
    "data": "training images and validation sets",
    "degradation": "how LR images are made from HR",
    "trainer": "Lightning's Trainer: device, precision, steps",
    "logger": "where metrics and images go: W&B, TensorBoard, MLflow, CSV",
    "callbacks": "checkpoints, summary.json, train.log, progress bar, pre-emption",
    "paths": "where data and logs are",
    "experiment": "a whole recipe, over any of the groups above",
    "hparams_search": "a hyperparameter search (with -m)",
}


def config_groups(config_name: str) -> list[str]:
    """`  model             the net: its family and sizes (default: resnet_sr)`, for each
    group conf/<config_name>.yaml takes (Hydra's own are left to Hydra's help)."""
    from hydra import compose, initialize_config_dir

    from srlab.utils.hydra import config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        choices = compose(config_name, return_hydra_config=True).hydra.runtime.choices
    return [
        f"  {group:<17} {GROUP_HELP.get(group, '')} (default: {choice or 'none'})"
        for group, choice in sorted(choices.items())
        if not group.startswith("hydra")
    ]


def help_text(
    usage: str, doc: str | None, examples: Sequence[str] = (), config_name: str | None = None
) -> str:
    """What `--help` prints first: what the command does (the first paragraph of its module's
    docstring), its usage line, its config groups, examples, then the rest of the docstring."""
    summary, _, details = (doc or "").strip().partition("\n\n")
    parts = [summary, f"usage: {usage}"]
    groups = config_groups(config_name) if config_name else []
    if groups:
        parts.append("config groups (group=option; the options are listed further down):")
        parts[-1] += "\n" + "\n".join(groups)
    if examples:
        parts.append("examples:\n" + "\n".join(f"  {example}" for example in examples))
    return "\n\n".join([*parts, details.strip()]).strip() + "\n"


def option_hint(error: Exception) -> list[str]:
    """`model=resnet: no such option; did you mean resnet_sr?` and the group's options, for
    an option of a config group that does not exist; [] for any other error."""
    from hydra.errors import MissingConfigException

    if not isinstance(error, MissingConfigException) or not error.options:
        return []
    group, _, option = error.missing_cfg_file.rpartition("/")
    if not group:
        return []
    options = sorted(error.options)
    # what it starts (model=resnet: resnet_sr), shortest first, then what it resembles
    close = sorted((choice for choice in options if choice.startswith(option)), key=len)
    close += [c for c in difflib.get_close_matches(option, options, cutoff=0.5) if c not in close]
    close = close[:2]
    guess = f"; did you mean {' or '.join(close)}?" if close else ""
    return [f"{group}={option}: no such option{guess}", f"options of {group}: {', '.join(options)}"]


def missing_value_error(error: MissingMandatoryValue, usage: str) -> SRLabError:
    """A `???` key nobody set: name it, and show the command's usage line."""
    key = getattr(error, "full_key", None) or str(error)
    return SRLabError(f"{key} is not set; pass {key}=...{f' (usage: {usage})' if usage else ''}")


def run_entry_point(function: Callable[[Any], Any], cfg: Any, usage: str = "") -> Any:
    """`function(cfg)`; a user mistake is printed in a few lines (and exits 1), with `usage`
    when a required key was not given; Ctrl-C in one line (exit status 130)."""
    try:
        try:
            return function(cfg)
        except MissingMandatoryValue as error:
            raise missing_value_error(error, usage) from None
    except SRLabError as error:
        console = Console(stderr=True, soft_wrap=True)
        console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        if in_multirun():
            return None
        sys.exit(1)
    except KeyboardInterrupt as stop:  # Ctrl-C: one line (what was done, if the command says)
        done = f": {stop}" if str(stop) else ""
        Console(stderr=True, soft_wrap=True).print(f"stopped by Ctrl-C{escape(done)}")
        sys.exit(130)
    except Exception:
        if in_multirun():
            log.exception("this job failed; the sweep goes on")
            return None
        raise


def config_error_hint(config_name: str, overrides: list[str], bad_key: str) -> str:
    """`did you mean n_resblocks? valid keys of model: ...` for an override of an unknown key."""
    from omegaconf import OmegaConf

    from srlab.utils.hydra import compose_config, split_override

    parent, _, leaf = bad_key.rpartition(".")
    others = [o for o in overrides if split_override(o)[0] != bad_key]
    try:
        cfg = compose_config(config_name, others)
        node = OmegaConf.select(cfg, parent) if parent else cfg
    except Exception:  # noqa: BLE001 - a hint is a nicety; Hydra's message stands alone
        return ""
    if not hasattr(node, "keys"):
        return ""
    keys = sorted(str(key) for key in node.keys())
    close = difflib.get_close_matches(leaf, keys, n=3)
    where = parent or "the top level"
    guess = f"did you mean {' or '.join(close)}? " if close else ""
    return f"{guess}valid keys of {where}: {', '.join(keys)}"


def hydra_message(error: Exception) -> str:
    """Hydra's message for a bad override, without the config search path it appends."""
    return str(error).split("\nConfig search path")[0]


def check_launcher(args: list[str]) -> None:
    """`hydra/launcher=slurm` where there is no SLURM: one line, not submitit's traceback."""
    if "hydra/launcher=slurm" in args and shutil.which("sbatch") is None:
        console = Console(stderr=True, soft_wrap=True)
        console.print(
            "[bold red]error:[/] hydra/launcher=slurm: no SLURM on this machine (sbatch not found);"
            " use hydra/launcher=parallel for local jobs in parallel, or run on a SLURM login node",
            highlight=False,
        )
        sys.exit(1)


def check_command_line(config_name: str, args: list[str]) -> None:
    """Compose the config once before Hydra runs, so an unknown key or group option fails in a
    few lines with Hydra's message and the valid choices, instead of a traceback."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    from srlab.utils.hydra import compose_config

    check_launcher(args)
    candidates = [arg for arg in args if "=" in arg and not arg.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(candidates)
    except HydraException:
        return  # a syntax error: Hydra reports it itself
    overrides = [
        o.input_line
        for o in parsed
        if not o.is_sweep_override() and not o.key_or_group.startswith("hydra")
    ]
    try:
        compose_config(config_name, overrides)
    except HydraException as error:
        message = option_hint(error) or hydra_message(error).splitlines()
        key = getattr(error.__cause__, "full_key", None)
        hint = config_error_hint(config_name, overrides, key) if key else ""
        console = Console(stderr=True, soft_wrap=True)
        console.print(f"[bold red]config error:[/] {escape(message[0])}", highlight=False)
        for line in message[1:] + ([hint] if hint else []):
            console.print(f"  {escape(line)}", highlight=False)
        sys.exit(1)


def asks_for_help(args: Sequence[str]) -> bool:
    return any(arg in ("-h", "--help") for arg in args)


def hydra_entry_point(
    config_name: str,
    function: Callable[[Any], Any],
    usage: str,
    doc: str | None,
    examples: Sequence[str] = (),
) -> Callable[[], None]:
    """`main` of `python -m srlab.<verb>`: check the command line, then run `function(cfg)`
    under Hydra with conf/<config_name>.yaml. `--help`: `help_text`, then Hydra's help (every
    option of the config groups and the composed config)."""
    import hydra

    from srlab.utils.hydra import config_dir

    @hydra.main(version_base="1.3", config_path=config_dir(), config_name=config_name)
    def hydra_main(cfg: Any) -> Any:
        return run_entry_point(function, cfg, usage)

    def main() -> None:
        if asks_for_help(sys.argv[1:]):
            print(help_text(usage, doc, examples, config_name))
        check_command_line(config_name, sys.argv[1:])
        hydra_main()

    return main


def compose_entry_point(
    config_name: str,
    function: Callable[[Any], Any],
    usage: str,
    doc: str | None,
    examples: Sequence[str] = (),
    bare_arguments_to: str | None = None,
) -> Callable[[Sequence[str] | None], None]:
    """`main` of a command that is no Hydra job (it writes no run directory and never sweeps):
    its arguments compose conf/<config_name>.yaml (`compose_arguments`), then `function(cfg)`
    runs as under `hydra_entry_point`; an int result is the exit status. `--help`:
    `help_text`."""

    def main(argv: Sequence[str] | None = None) -> None:
        args = list(sys.argv[1:] if argv is None else argv)
        if asks_for_help(args):
            print(help_text(usage, doc, examples, config_name))
            return
        status = run_entry_point(
            lambda arguments: function(
                compose_arguments(config_name, arguments, usage, bare_arguments_to)
            ),
            args,
            usage,
        )
        sys.exit(status if isinstance(status, int) else 0)

    return main


def compose_arguments(
    config_name: str, args: Sequence[str], usage: str, bare_arguments_to: str | None = None
) -> Any:
    """conf/<config_name>.yaml composed with Hydra's compose API and the `key=value` arguments.
    `bare_arguments_to`: the list key that the other arguments (and any naming an existing path)
    are appended to. A bad argument is a user mistake that shows the usage."""
    from hydra.errors import HydraException

    from srlab.utils.hydra import compose_config

    bare = []
    if bare_arguments_to is not None:
        bare = [arg for arg in args if "=" not in arg or os.path.exists(arg)]
    try:
        cfg = compose_config(config_name, [arg for arg in args if arg not in bare])
    except HydraException as error:
        message = "\n".join(option_hint(error)) or hydra_message(error)
        raise SRLabError(f"{message}\nusage: {usage}") from error
    if bare_arguments_to is not None:
        cfg[bare_arguments_to] = [*cfg[bare_arguments_to], *bare]
    return cfg
