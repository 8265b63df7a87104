"""weights/matlab.py: MATLAB .mat files as a flat dict of float32 tensors named as MATLAB names
them; files it cannot read are named in the error."""

import numpy as np
import pytest
import torch
from scipy.io import savemat

from conftest import SHARED_DATA
from srlab.utils.errors import SRLabError
from srlab.weights.matlab import read_mat

PUBLISHED = SHARED_DATA / "published"


def test_a_struct_of_cell_arrays_is_keyed_as_matlab_indexes_it(tmp_path):
    cells = np.empty((1, 2), dtype=object)
    cells[0, 0] = np.arange(6.0).reshape(2, 3)
    cells[0, 1] = np.ones((4, 1))
    path = tmp_path / "model.mat"
    savemat(path, {"model": {"weight": cells, "name": "a string"}, "scale": 3})
    weights = read_mat(path)
    assert sorted(weights) == ["model.weight{1}", "model.weight{2}", "scale"]
    assert weights["model.weight{1}"].dtype == torch.float32
    assert weights["model.weight{1}"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert weights["model.weight{2}"].shape == (4, 1)
    assert weights["scale"].tolist() == [[3.0]]


@pytest.mark.parametrize(
    ("path", "keys", "shape"),
    [
        ("vdsr/VDSR_Official.mat", 40, ("model.weight{20}", (3, 3, 64))),
        ("srcnn/srcnn_955_imagenet_x3.mat", 6, ("weights_conv2", (64, 25, 32))),
    ],
)
def test_the_published_files_read_with_matlabs_shapes(path, keys, shape):
    if not (PUBLISHED / path).is_file():
        pytest.skip(f"{PUBLISHED / path} not found: the published weights are in ../shared/data")
    weights = read_mat(PUBLISHED / path)
    assert len(weights) == keys
    key, expected = shape
    assert tuple(weights[key].shape) == expected  # MATLAB's trailing singleton dropped


def test_a_file_that_is_not_a_mat_file_is_named_in_the_error(tmp_path):
    path = tmp_path / "weights.mat"
    path.write_bytes(b"not a MATLAB file at all" * 10)
    with pytest.raises(SRLabError, match="weights.mat"):
        read_mat(path)


def test_a_missing_file_is_named_in_the_error(tmp_path):
    with pytest.raises(SRLabError, match="nothing.mat"):
        read_mat(tmp_path / "nothing.mat")
