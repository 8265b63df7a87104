"""Where the Hydra configs live, and the resolvers they use (`${srlab.asset:Set5}` ...)."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate as hydra_instantiate
from omegaconf import DictConfig, OmegaConf

from srlab.utils.errors import SRLabError
from srlab.utils.files import new_dir

PACKAGE_DIR = Path(__file__).resolve().parents[1]
NOISY_OVERRIDE_PREFIXES = (
    "paths.",
    "logger",
    "hydra",
    "ckpt_path",
    "callbacks.",
    "trainer.devices",
)


def config_dir() -> str:
    """conf/ inside an installed wheel (srlab/conf), else the checkout's top-level conf/."""
    packaged = PACKAGE_DIR / "conf"
    return str(packaged if packaged.is_dir() else PACKAGE_DIR.parents[1] / "conf")


def asset_dir(name: str) -> str:
    """Data shipped inside the package (the embedded default's validation set, Set5)."""
    return str(PACKAGE_DIR / "assets" / name)


def skimage_data_dir() -> str:
    """The sample photos scikit-image ships inside its package: training data with no download."""
    from skimage import data

    return str(Path(data.__file__).parent)


def compose_config(config_name: str, overrides: Sequence[str] = ()) -> DictConfig:
    """conf/<config_name>.yaml with `overrides`, as the command line would compose it (inside an
    initialized Hydra, e.g. a running job, its search path is used)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose(config_name, overrides=list(overrides))
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name, overrides=list(overrides))


def split_override(override: str) -> tuple[str, str | None]:
    """`+model.n_feats=8` -> ("model.n_feats", "8"); `~logger` -> ("logger", None)."""
    key, equals, value = str(override).partition("=")
    return key.lstrip("+~"), value if equals else None


def task_overrides() -> list[str]:
    """This job's command-line overrides that say what the run is (not where it writes)."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return []
    overrides = HydraConfig.get().overrides.task
    return [o for o in overrides if not split_override(o)[0].startswith(NOISY_OVERRIDE_PREFIXES)]


SWEEP_FUNCTIONS = ("choice(", "range(", "interval(", "glob(", "tag(", "shuffle(", "sort(")


def is_sweep(value: str) -> bool:
    """`1,2,4` or `choice(...)`: a value that Hydra's sweepers expand into several jobs."""
    depth = 0
    for char in value:
        depth += char in "[{(" and 1 or (char in "]})" and -1 or 0)
        if char == "," and depth == 0:
            return True
    return value.startswith(SWEEP_FUNCTIONS)


def swept_keys() -> set[str]:
    """Keys the current multirun varies: its command-line sweeps and its sweeper's params."""
    group = sweep_group()
    if group is None:
        return set()
    from hydra.core.hydra_config import HydraConfig

    multirun = Path(HydraConfig.get().sweep.dir) / "multirun.yaml"
    if not multirun.is_file():
        return set()
    hydra_config = OmegaConf.load(multirun).hydra
    overrides = [split_override(o) for o in hydra_config.overrides.task]
    keys = {key for key, value in overrides if value is not None and is_sweep(value)}
    return keys | set(hydra_config.sweeper.get("params") or {})


def run_name() -> str:
    """`n_resblocks=8,upsampler=deconv`: what this job sets (in a sweep: what it varies),
    each key by its last part."""
    pairs = [split_override(o) for o in task_overrides()]
    varied = swept_keys()
    if varied:
        pairs = [pair for pair in pairs if pair[0] in varied]
    return ",".join(f"{re.split(r'[./]', k)[-1]}={v}" for k, v in pairs) or "default"


def sweep_group() -> str | None:
    """Runs of one multirun share a group: the sweep directory's name."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    return Path(HydraConfig.get().sweep.dir).name


def first_val_set(data) -> str:
    """The name under which the first validation set is logged (val/<name>/psnr)."""
    if data.get("val_sets"):
        return next(iter(data.val_sets))
    return Path(str(data.val_dir)).name


def instantiate(config, **kwargs):
    """hydra.utils.instantiate, except that a user mistake surfaces as itself, not wrapped."""
    try:
        return hydra_instantiate(config, **kwargs)
    except InstantiationException as error:
        if isinstance(error.__cause__, SRLabError):
            raise error.__cause__ from None
        raise


def register_resolvers() -> None:
    resolvers = {
        "srlab.asset": asset_dir,
        "srlab.skimage_data": skimage_data_dir,
        "srlab.run_name": run_name,
        "srlab.sweep_group": sweep_group,
        "srlab.job_type": lambda: "sweep" if sweep_group() else "train",
        "srlab.tags": lambda: [tag[:64] for tag in task_overrides()],  # W&B: 64 chars a tag
        "srlab.first_val_set": first_val_set,
    }
    for name, resolver in resolvers.items():
        if not OmegaConf.has_resolver(name):
            OmegaConf.register_new_resolver(name, resolver)
    # the run or sweep directory: made once per config (cached), the jobs of a sweep get its value
    if not OmegaConf.has_resolver("srlab.new_dir"):
        OmegaConf.register_new_resolver(
            "srlab.new_dir", lambda parent, name: str(new_dir(parent, name)), use_cache=True
        )


register_resolvers()


def partial_config(factory: functools.partial) -> dict[str, Any]:
    """The config that rebuilds what a Hydra partial (`_partial_: true`) builds: its `_target_`
    and keyword arguments, as plain data (what checkpoints carry)."""
    target = f"{factory.func.__module__}.{factory.func.__qualname__}"
    keywords = {
        key: OmegaConf.to_object(value) if OmegaConf.is_config(value) else value
        for key, value in factory.keywords.items()
    }
    return {"_target_": target, **keywords}
