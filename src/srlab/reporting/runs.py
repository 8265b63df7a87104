"""Finding and reading run directories: what each run was asked (its .hydra/ config and
overrides) and what it reached (summary.json). Nothing here fails on a broken run: a missing or
unreadable file is said in the run's status."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from srlab.training.summary import SUMMARY_FILE, RunStatus, RunSummary, how_it_ended
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import NOISY_OVERRIDE_PREFIXES, split_override

NOT_FOUND = object()  # OmegaConf.select's default: tells "absent" from a null value
# A run's status -> how the table says it; "failed" adds the error's first line.
STATUS_TEXT = {
    RunStatus.COMPLETED: "completed",
    RunStatus.RUNNING: "unfinished",  # still running, or killed without a chance to say so
    RunStatus.INTERRUPTED: "interrupted",  # stopped by a signal; can be resumed
}


@dataclass
class Run:
    """One run directory: what it was asked (config, overrides) and what it reached (summary)."""

    path: Path
    name: str
    config: DictConfig
    choices: dict[str, str]  # config groups: {"model": "resnet_sr", "experiment": "quick", ...}
    overrides: dict[str, str]  # .hydra/overrides.yaml that say what the run is, key -> value
    summary: RunSummary | None  # None: no summary.json (not started, or unreadable)
    problem: str = ""  # an unreadable file, said in the status instead of crashing

    @property
    def metrics(self) -> dict[str, float]:
        return self.summary.metrics if self.summary else {}

    def summary_value(self, key: str) -> Any:
        """A field of its summary by name (`params`, `steps`, `wall_s`, `history`), or inside
        its cost (`cost.macs`, `cost.latency_ms`); None without a summary or without the field."""
        if not self.summary:
            return None
        field, _, inner = key.partition(".")
        value = getattr(self.summary, field, None)
        return (value or {}).get(inner) if inner else value

    @property
    def status(self) -> str:
        if self.problem:
            return self.problem
        if self.summary is None:
            return "no summary"
        status = self.summary.status
        if status == RunStatus.FAILED:
            error = (self.summary.error or "").strip().splitlines()
            return f"{status}: {error[0]}" if error else str(status)
        if status == RunStatus.STOPPED:  # `stopped by trainer.max_time at step 244 of 1600`
            return how_it_ended(self.summary) or str(status)
        return STATUS_TEXT.get(status, str(status) or "unknown")

    def setting(self, key: str) -> str:
        """The value this run used for an override key: the group's choice (`model=bicubic`),
        else the composed config's value, else the override as written."""
        if key in self.choices:
            return str(self.choices[key])
        value = OmegaConf.select(
            self.config, key, default=NOT_FOUND, throw_on_resolution_failure=False
        )
        if value is NOT_FOUND:
            return self.overrides.get(key, "")
        if OmegaConf.is_config(value):
            value = OmegaConf.to_container(value, resolve=False)
        if value is None:
            return "null"  # as an override writes it
        return str(value).lower() if isinstance(value, bool) else str(value)


def is_run_dir(path: Path) -> bool:
    return (path / ".hydra").is_dir() or (path / SUMMARY_FILE).is_file()


def natural_key(path: Path) -> list[Any]:
    """Multirun jobs 0, 1, ..., 10 in number order, not 0, 1, 10, 2."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(path))]


def runs_below(path: Path) -> list[Path]:
    """Every run directory under `path`, in natural order; a run's own subfolders are not
    searched."""
    below = []
    for folder, subfolders, _ in os.walk(path):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        if is_run_dir(Path(folder)):
            below.append(Path(folder))
            subfolders.clear()
    return sorted(below, key=natural_key)


def find_runs(paths: Sequence[Path]) -> list[Path]:
    """Run directories: each path itself, or every run found below it (a sweep, a folder of
    sweeps)."""
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            raise SRLabError(
                f"{path}: no such directory; pass a sweep directory "
                "(logs/train/multiruns/<time>) or run directories"
            )
        below = [path] if is_run_dir(path) else runs_below(path)
        if not below:
            raise SRLabError(
                f"{path}: no run directories below it (folders with .hydra/ or summary.json); "
                f"pass a sweep directory (logs/train/multiruns/<time>) or run directories"
            )
        found += below
    return list(dict.fromkeys(path.resolve() for path in found))


def run_names(paths: Sequence[Path]) -> list[str]:
    """Directory names (`3` in a multirun), with as many parent folders as tell them apart."""
    for depth in range(1, max(len(path.parts) for path in paths) + 1):
        names = ["/".join(path.parts[-depth:]) for path in paths]
        if len(set(names)) == len(names):
            return names
    return [str(path) for path in paths]


def parse_overrides(items: Sequence[Any]) -> dict[str, str]:
    """`model.n_resblocks=8` -> {"model.n_resblocks": "8"}, leaving out where-it-writes keys."""
    overrides = {}
    for item in items:
        key, value = split_override(item)
        if key and not key.startswith(NOISY_OVERRIDE_PREFIXES):
            overrides[key] = "" if value is None else value
    return overrides


def load_run(path: Path, name: str) -> Run:
    """Read what there is; a missing or unreadable file is said in the run's status."""
    hydra_dir = path / ".hydra"
    problems = []

    def load(file: Path, default: Any) -> Any:
        if not file.is_file():
            return default
        try:
            return OmegaConf.load(file)
        except Exception as error:  # a hand-edited or truncated file must not stop the table
            problems.append(f"unreadable {file.relative_to(path)}: {type(error).__name__}")
            return default

    config = load(hydra_dir / "config.yaml", None) or OmegaConf.create()
    hydra = load(hydra_dir / "hydra.yaml", None)
    choices = OmegaConf.select(hydra, "hydra.runtime.choices", default=None) if hydra else None
    overrides = load(hydra_dir / "overrides.yaml", [])
    try:
        summary = RunSummary.read(path / SUMMARY_FILE)
    except (OSError, ValueError) as error:
        problems.append(f"unreadable {SUMMARY_FILE}: {type(error).__name__}")
        summary = None
    return Run(
        path=path,
        name=name,
        config=config,
        choices=OmegaConf.to_container(choices) if choices else {},
        overrides=parse_overrides(overrides or []),
        summary=summary,
        problem="; ".join(problems),
    )


def load_runs(paths: Sequence[Path]) -> list[Run]:
    """The runs under `paths` (see find_runs), each named by as much of its path as tells it
    apart from the others."""
    run_dirs = find_runs(paths)
    return [load_run(path, name) for path, name in zip(run_dirs, run_names(run_dirs), strict=True)]


def bicubic_psnr(runs: Sequence[Run], val_set: str) -> float | None:
    """The bicubic baseline of a validation set (the same for every run of a scale)."""
    values = [run.metrics.get(f"val/{val_set}/bicubic_psnr") for run in runs]
    return next((value for value in values if value is not None), None)
