"""Every config composes and every `_target_` in it builds: each option of each group, each
experiment (and every value its sweep tries), each entry config.

The cases are found by globbing conf/, so a new option is tested the moment it is added, and a
renamed class or argument fails here at once instead of at the start of somebody's run. Nets are
built on the meta device (no memory, no initialisation): EDSR's 40 M parameters take 4 s on a
CPU and 0.3 s there, and the constructor code runs just the same.
"""

from __future__ import annotations

from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep
from hydra.utils import get_class, instantiate
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, OmegaConf
from torch import nn

from srlab.data.datamodule import SRDataModule
from srlab.data.degradation import Degradation
from srlab.training.module import SRModule
from srlab.training.run import instantiate_group
from srlab.utils.errors import SRLabError
from srlab.utils.hydra import config_dir
from srlab.utils.typecheck import check_config

CONF = Path(config_dir())
ENTRY_CONFIGS = sorted(path.stem for path in CONF.glob("*.yaml"))
# (group, option) for every conf/<group>/<option>.yaml, nested groups too (module/loss, l1).
OPTIONS = sorted(
    (str(path.parent.relative_to(CONF)), path.stem)
    for path in CONF.glob("*/**/*.yaml")
    if path.parent.relative_to(CONF).parts[0] != "experiment"
)
EXPERIMENTS = sorted(path.stem for path in (CONF / "experiment").glob("*.yaml"))
TINY_NET = ["model.n_resblocks=2", "model.n_feats=8"]


@pytest.fixture(scope="module")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One for the module: MLflow takes seconds to create its SQLite store, once per folder."""
    return tmp_path_factory.mktemp("logs")


@pytest.fixture
def where(tmp_path: Path, log_dir: Path) -> list[str]:
    """Overrides that keep every path in tmp_path, with the folders data=div2k expects there
    (empty: nothing is read until setup) and the two that data=folder asks for."""
    for folder in ("DIV2K/DIV2K_train_HR", "DIV2K/DIV2K_valid_HR", "train", "val"):
        (tmp_path / "data" / folder).mkdir(parents=True)
    return [
        f"paths.data_dir={tmp_path / 'data'}",
        f"paths.log_dir={log_dir}",
        f"paths.output_dir={tmp_path / 'run'}",
    ]


def compose_config(name: str, overrides: list[str], hydra: bool = False) -> DictConfig:
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(name, overrides=overrides, return_hydra_config=hydra)


def compose_train(overrides: list[str], where: list[str], hydra: bool = False) -> DictConfig:
    """conf/train.yaml with `overrides`, writing under tmp_path; data=folder given its folders."""
    cfg = compose_config("train", [*where, *overrides], hydra)
    if OmegaConf.is_missing(cfg.data, "train_dir"):  # data=folder: ??? until the user says
        data_dir = Path(cfg.paths.data_dir)
        cfg.data.train_dir, cfg.data.val_dir = str(data_dir / "train"), str(data_dir / "val")
    check_config(cfg)  # values against the constructors' annotations, as train() does first
    return cfg


def build_module(cfg: DictConfig, device: str = "meta") -> SRModule:
    """cfg.module with its net built from cfg.model, and its optimizer and scheduler bound."""
    with torch.device(device):
        module = instantiate(cfg.module)
    assert isinstance(module, SRModule) and isinstance(module.net, nn.Module)
    # The model group is a Hydra partial: the module builds the net and keeps its config for
    # checkpoints, from which eval, upscale and export rebuild the net.
    assert module.net_config is not None, f"{cfg.model._target_}: set _partial_: true"
    model = OmegaConf.to_container(cfg.model, resolve=True)
    assert module.net_config == {key: value for key, value in model.items() if key != "_partial_"}
    if not list(module.net.parameters()):  # model=bicubic: eval's baseline, nothing to train
        return module
    optimizers = module.configure_optimizers()
    assert isinstance(optimizers["optimizer"], torch.optim.Optimizer)
    if module.scheduler_factory:  # module/scheduler=none: a constant rate
        scheduler = optimizers["lr_scheduler"]["scheduler"]
        assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler)
    return module


def build_trainer(trainer: DictConfig) -> L.Trainer:
    """The Trainer as configured, on the CPU where there is no GPU (fit is never called)."""
    cpu = {} if torch.cuda.is_available() else {"accelerator": "cpu"}
    built = instantiate(trainer, **cpu)
    assert isinstance(built, L.Trainer)
    return built


def swept_values(key: str, value: str) -> list[str]:
    """`key=value` of a sweeper's params as the overrides its jobs get (an interval: its ends)."""
    (override,) = OverridesParser.create().parse_overrides([f"{key}={value}"])
    sweep = override.value()
    if isinstance(sweep, IntervalSweep):
        values = [str(sweep.start), str(sweep.end)]
    elif override.is_sweep_override():
        values = list(override.sweep_string_iterator())
    else:
        values = [override.get_value_element_as_str()]
    return [f"{override.get_key_element()}={value}" for value in values]  # `+family=...` too


def swept_jobs(params: DictConfig | None) -> list[list[str]]:
    """Jobs that between them try every value of every swept key: job i takes each key's i-th
    value (cycling), so that the fewest configs are composed."""
    values = [swept_values(key, value) for key, value in (params or {}).items()]
    n_jobs = max((len(choices) for choices in values), default=0)
    return [[choices[i % len(choices)] for choices in values] for i in range(n_jobs)]


# --- one check per group: compose conf/train.yaml with <group>=<option>, build that node ------
def check_model(option: str, where: list[str]) -> None:
    build_module(compose_train([f"model={option}"], where))
    if option != "bicubic":  # the reference, never trained; any other family with make train's
        build_module(compose_train(["experiment=quick", f"model={option}"], where))


def check_module(group: str, option: str, where: list[str]) -> None:
    cfg = compose_train([f"{group}={option}", *TINY_NET], where)
    build_module(cfg, device="cpu")


def check_data(option: str, where: list[str]) -> None:
    datamodule = instantiate(compose_train([f"data={option}"], where).data)
    assert isinstance(datamodule, SRDataModule) and datamodule.val_names


def check_trainer(option: str, where: list[str]) -> None:
    build_trainer(compose_train([f"trainer={option}"], where).trainer)


def check_logger(option: str, where: list[str]) -> None:
    group = compose_train([f"logger={option}"], where).logger
    try:
        loggers = instantiate_group(group)
    except SRLabError as error:  # an optional dependency: its message says what to install
        pytest.skip(str(error))
    assert len(loggers) == len([entry for entry in group.values() if entry])
    assert all(isinstance(logger, Logger) for logger in loggers)


def check_callbacks(option: str, where: list[str]) -> None:
    group = compose_train([f"callbacks={option}"], where).callbacks
    callbacks = instantiate_group(group)
    assert len(callbacks) == len([entry for entry in group.values() if entry])
    assert all(isinstance(callback, L.Callback) for callback in callbacks)


def check_paths(option: str, where: list[str]) -> None:
    paths = OmegaConf.to_container(compose_train([f"paths={option}"], where).paths, resolve=True)
    assert all(isinstance(value, str) for value in paths.values())


def check_degradation(option: str, where: list[str]) -> None:
    """A degradation reaches the data as an object that makes LR of HR/scale."""
    datamodule = instantiate(compose_train([f"degradation={option}"], where).data)
    lr = datamodule.degradation.degrade(np.zeros((24, 24, 3), np.uint8), 3, "zeros")
    assert isinstance(datamodule.degradation, Degradation) and lr.shape == (8, 8, 3)


def check_hydra(group: str, option: str, where: list[str]) -> None:
    cfg = compose_train([f"{group}={option}"], where, hydra=True)
    if group == "hydra/launcher":
        launcher = instantiate(cfg.hydra.launcher)
        assert type(launcher).__name__.endswith("Launcher")
    else:
        assert cfg.hydra.job.name == cfg.task_name


def check_family(option: str, where: list[str]) -> None:
    """A family is a model and its size, added to any run (`+family=rcan`): not in the defaults."""
    build_module(compose_train([f"+family={option}"], where))


def check_hparams_search(option: str, where: list[str]) -> None:
    cfg = compose_train([f"hparams_search={option}"], where, hydra=True)
    get_class(cfg.hydra.sweeper._target_)
    if "sampler" in cfg.hydra.sweeper:
        instantiate(cfg.hydra.sweeper.sampler)
    for job in swept_jobs(cfg.hydra.sweeper.params):  # every key exists, every value fits
        build_module(compose_train([f"hparams_search={option}", *job], where))


GROUP_CHECKS = {
    "model": check_model,
    "data": check_data,
    "degradation": check_degradation,
    "trainer": check_trainer,
    "logger": check_logger,
    "callbacks": check_callbacks,
    "paths": check_paths,
    "family": check_family,
    "hparams_search": check_hparams_search,
}
SUBGROUP_CHECKS = {"module": check_module, "hydra": check_hydra}  # also given the group's path


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}/{o}" for g, o in OPTIONS])
def test_every_group_option_composes_and_builds(group: str, option: str, where: list[str]) -> None:
    top = group.split("/")[0]  # a new group has no check yet: see the test below
    if top in SUBGROUP_CHECKS:
        SUBGROUP_CHECKS[top](group, option, where)
    else:
        GROUP_CHECKS[top](option, where)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_and_builds_what_each_of_its_jobs_runs(
    experiment: str, where: list[str]
) -> None:
    cfg = compose_train([f"experiment={experiment}"], where, hydra=True)
    build_module(cfg)
    assert isinstance(instantiate(cfg.data), SRDataModule)
    build_trainer(cfg.trainer)
    for job in swept_jobs(cfg.hydra.sweeper.get("params")):
        build_module(compose_train([f"experiment={experiment}", *job], where))


def test_a_key_the_class_does_not_take_is_named_with_how_to_drop_it(where: list[str]) -> None:
    with pytest.raises(
        SRLabError, match=r"model\.upsampler is not a setting of .*RCAN \(it takes "
    ):
        compose_train(["model=rcan", "+model.upsampler=deconv"], where)


@pytest.mark.parametrize("override", ["model.n_feats=0", "data.batch_size=0"])
def test_a_zero_for_a_positive_setting_is_refused_before_anything_is_built(
    override: str, where: list[str]
) -> None:
    with pytest.raises(SRLabError, match=f"{override} must be a positive integer"):
        compose_train([override], where)


@pytest.mark.parametrize("name", ENTRY_CONFIGS)
def test_every_entry_config_composes_and_resolves(name: str, tmp_path: Path) -> None:
    cfg = compose_config(name, [])
    if "paths" in cfg:  # the run directory is Hydra's at run time
        cfg.paths.output_dir = str(tmp_path / "run")
    check_config(cfg)
    resolved = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    assert resolved.get("task_name", name) == name


def test_the_cases_cover_every_config_group() -> None:
    groups = {path.name for path in CONF.iterdir() if path.is_dir()}
    unchecked = groups - {*GROUP_CHECKS, *SUBGROUP_CHECKS, "experiment"}
    assert not unchecked, f"new config groups {unchecked}: add a check for each here"
    assert {"train", "eval"} <= set(ENTRY_CONFIGS) and "model" in {g for g, _ in OPTIONS}
