"""What every entry point shares: user mistakes print in a few lines and exit 1; in a multirun a
failed job returns None so that the other jobs go on."""

from __future__ import annotations

import difflib
import logging
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
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


def usage(config_name: str) -> str:
    """The `# python -m srlab...` line that opens conf/<config_name>.yaml."""
    from srlab.utils.hydra import config_dir

    path = Path(config_dir()) / f"{config_name}.yaml"
    first = path.read_text().splitlines()[0] if path.is_file() else ""
    return first.lstrip("# ").strip()


def missing_value_error(error: MissingMandatoryValue, config_name: str) -> SRLabError:
    """A `???` key nobody set: name it, and show the command's usage line."""
    key = getattr(error, "full_key", None) or str(error)
    line = usage(config_name)
    return SRLabError(f"{key} is not set; pass {key}=...{f' (usage: {line})' if line else ''}")


def run_entry_point(function: Callable[[Any], Any], cfg: Any, config_name: str = "") -> Any:
    try:
        try:
            return function(cfg)
        except MissingMandatoryValue as error:
            raise missing_value_error(error, config_name) from None
    except SRLabError as error:
        console = Console(stderr=True, soft_wrap=True)
        console.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        if in_multirun():
            return None
        sys.exit(1)
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
        message = str(error).split("\nConfig search path")[0].splitlines()
        key = getattr(error.__cause__, "full_key", None)
        hint = config_error_hint(config_name, overrides, key) if key else ""
        console = Console(stderr=True, soft_wrap=True)
        console.print(f"[bold red]config error:[/] {escape(message[0])}", highlight=False)
        for line in message[1:] + ([hint] if hint else []):
            console.print(f"  {escape(line)}", highlight=False)
        sys.exit(1)


def hydra_entry_point(config_name: str, function: Callable[[Any], Any]) -> Callable[[], None]:
    """`main` of `python -m srlab.<verb>`: check the command line, then run `function(cfg)`
    under Hydra with conf/<config_name>.yaml."""
    import hydra

    from srlab.utils.hydra import config_dir

    @hydra.main(version_base="1.3", config_path=config_dir(), config_name=config_name)
    def hydra_main(cfg: Any) -> Any:
        return run_entry_point(function, cfg, config_name)

    def main() -> None:
        check_command_line(config_name, sys.argv[1:])
        hydra_main()

    return main
