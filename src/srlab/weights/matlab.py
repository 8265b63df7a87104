"""MATLAB `.mat` weight files (v4 to v7; the SRCNN and VDSR releases) as a flat dict of tensors.

Each numeric array is keyed by the MATLAB expression that names it in the file: `weights_conv1`,
`model.weight{3}` (a struct field holding a cell array; cell indices 1-based, as MATLAB counts
them, in MATLAB's column-major order). The arrays keep MATLAB's shapes and order of dimensions
(and MATLAB's dropped trailing singleton dimensions): what they mean is `layouts/`. Strings and
other non-numeric contents are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from srlab.utils.errors import SRLabError

HEADER_KEYS = ("__header__", "__version__", "__globals__")  # loadmat's own entries


def read_mat(path: str | Path) -> dict[str, torch.Tensor]:
    """Every numeric array of the .mat file as a float32 tensor, keyed by its MATLAB name."""
    path = Path(path)
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        contents = loadmat(path)
    except NotImplementedError as error:  # scipy reads up to v7; v7.3 files are HDF5
        raise SRLabError(
            f"cannot read {path}: {error}; re-save it in MATLAB with save(..., '-v7')"
        ) from error
    except (MatReadError, ValueError, TypeError, OSError) as error:
        raise SRLabError(
            f"cannot read {path} as a MATLAB .mat file ({type(error).__name__}: {error}); it is "
            "truncated or not a .mat file: pass another weights file"
        ) from error
    tensors: dict[str, torch.Tensor] = {}
    for name, value in contents.items():
        if name not in HEADER_KEYS:
            flatten(name, value, tensors)
    if not tensors:
        raise SRLabError(f"{path} holds no numeric arrays: pass the file of a net's weights")
    return tensors


def flatten(name: str, value: Any, into: dict[str, torch.Tensor]) -> None:
    """Put the numeric arrays inside `value` (an array, a struct, a cell array) into `into`."""
    if not isinstance(value, np.ndarray):
        return
    if value.dtype.names:  # a struct array: name.field, or name(i).field for several structs
        for index, struct in enumerate(value.flatten(order="F"), start=1):
            prefix = name if value.size == 1 else f"{name}({index})"
            for field in value.dtype.names:
                flatten(f"{prefix}.{field}", struct[field], into)
    elif value.dtype == object:  # a cell array: name{i}
        for index, item in enumerate(value.flatten(order="F"), start=1):
            flatten(f"{name}{{{index}}}", item, into)
    elif value.dtype.kind in "biuf":  # bool, signed, unsigned, floating
        into[name] = torch.from_numpy(np.ascontiguousarray(value, dtype=np.float32))
