"""What every entry point shares: user mistakes print in a few lines and exit 1; in a multirun a
failed job returns None so that the other jobs go on."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.markup import escape

from srlab.errors import SRLabError

log = logging.getLogger("srlab")


def in_multirun() -> bool:
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def run_entry_point(function: Callable[[Any], Any], cfg: Any) -> Any:
    try:
        return function(cfg)
    except SRLabError as error:
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)
        if in_multirun():
            return None
        sys.exit(1)
    except Exception:
        if in_multirun():
            log.exception("this job failed; the sweep goes on")
            return None
        raise
