"""Typed configs: every `_target_` node's values are checked against its class's annotated
signature (and a few ranges) before any data is read, in one line naming the key:

    data.batch_size='abc' must be a positive integer

The classes stay the schema (configs map 1:1 to constructors); no second copy as dataclasses.
"""

from __future__ import annotations

import inspect
import types
import typing
from typing import Any

from hydra.utils import get_method
from omegaconf import DictConfig, ListConfig, OmegaConf

from srlab.utils.errors import SRLabError

# Keys that are counts or sizes (> 0), or may also be zero; by the argument's name.
POSITIVE = {
    "batch_size", "patch_size", "n_resblocks", "n_feats", "n_resgroups", "reduction", "scale",
    "max_steps", "val_check_interval", "repeat", "lr", "log_every_n_steps", "devices",
    "num_nodes", "total_steps", "step_size", "img_range", "n_colors",
}  # fmt: skip
NON_NEGATIVE = {"num_workers", "warmup_steps", "weight_decay", "min_lr_ratio", "ema_decay"}
SIMPLE = {int: "an integer", float: "a number", bool: "true or false", str: "a string"}


def check_config(cfg: DictConfig) -> None:
    """Raise SRLabError for the first value whose type or range its constructor rejects."""
    for key in ("model", "module", "data", "trainer"):
        node = cfg.get(key)
        if isinstance(node, DictConfig):
            check_node(node, key)


def check_node(node: DictConfig, where: str) -> None:
    parameters = signature_of(node)
    for key in node:
        if str(key).startswith("_") or OmegaConf.is_missing(node, key):
            continue
        value = node[key]
        if isinstance(value, DictConfig):
            check_node(value, f"{where}.{key}")
        elif parameters and key in parameters:
            check_value(f"{where}.{key}", value, parameters[key])
        elif parameters and not takes_any_keyword(parameters):
            # e.g. +model.upsampler=deconv with model=rcan: one line, not Hydra's TypeError
            raise SRLabError(
                f"{where}.{key} is not a setting of {node._target_} (it takes "
                f"{', '.join(parameters)}); drop it with ~{where}.{key}"
            )


def signature_of(node: DictConfig) -> dict[str, inspect.Parameter]:
    target = node.get("_target_")
    if not isinstance(target, str):
        return {}
    try:
        function = get_method(target)
        return dict(inspect.signature(function).parameters)
    except Exception:  # noqa: BLE001 - an unknown target is Hydra's error to report
        return {}


def takes_any_keyword(parameters: dict[str, inspect.Parameter]) -> bool:
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def check_value(key: str, value: Any, parameter: inspect.Parameter) -> None:
    expected = plain_types(parameter.annotation)
    if not expected:
        return
    if value is None:
        if type(None) not in expected:
            raise SRLabError(f"{key}=null is not allowed: give {expected_text(expected, key)}")
        return
    if isinstance(value, ListConfig):
        value = list(value)
    if not any(fits(value, kind) for kind in expected if kind is not type(None)):
        raise SRLabError(f"{key}={value!r} must be {expected_text(expected, key)}")
    name = key.rsplit(".", 1)[-1]
    if isinstance(value, int | float) and not isinstance(value, bool):
        if (name in POSITIVE and value <= 0) or (name in NON_NEGATIVE and value < 0):
            raise SRLabError(f"{key}={value!r} must be {expected_text(expected, key)}")


def plain_types(annotation: Any) -> set[type]:
    """The builtin types an annotation admits ({int}, {float, NoneType}, ...); empty when it
    says nothing this check can judge (a class, a Tensor, a callable)."""
    if isinstance(annotation, str):
        try:
            annotation = eval(annotation, vars(typing) | vars(types) | __builtins__)  # noqa: S307
        except Exception:  # noqa: BLE001 - a forward reference to a class: not judged here
            return set()
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        # `float | Tensor`: a config can only hold the plain members
        return set().union(*(plain_types(arg) for arg in typing.get_args(annotation)))
    if origin is typing.Literal:  # `"32-true" | "bf16-mixed" | ...`: the values' types
        return {type(value) for value in typing.get_args(annotation)} & (set(SIMPLE) | {type(None)})
    if annotation is type(None) or annotation is None:
        return {type(None)}
    if origin in (list, tuple, dict) or annotation in (list, tuple, dict):
        return {origin or annotation}
    return {annotation} if annotation in SIMPLE else set()


def fits(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in (list, tuple):
        return isinstance(value, list | tuple)
    if kind is dict:
        return isinstance(value, dict | DictConfig)
    return isinstance(value, kind)


def expected_text(expected: set[type], key: str) -> str:
    kinds = [k for k in expected if k is not type(None)]
    name = key.rsplit(".", 1)[-1]
    words = " or ".join(SIMPLE.get(k, f"a {k.__name__}") for k in kinds)
    if name in POSITIVE:
        words = words.replace("an integer", "a positive integer").replace(
            "a number", "a positive number"
        )
    elif name in NON_NEGATIVE:
        words = words.replace("an integer", "an integer >= 0").replace("a number", "a number >= 0")
    return words + (" (or null)" if type(None) in expected else "")
