"""module.init_weights: a run starts from published weights (or another run's), for fine-tuning;
the settings that differ from the file's are named."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate

from conftest import SHARED_DATA, compose_train, needs_shared_data
from srlab.data.io import read_image
from srlab.ops.pixels import hwc, to_float
from srlab.utils.errors import SRLabError

INTEROP = SHARED_DATA / "interop"
# BasicSR's RCAN fixture: 2 groups x 2 blocks x 16 features, reduction 4, 0-255 inside the net.
RCAN = "rcan_basicsr_g2b2f16x2"
RCAN_SIZES = [
    "model=rcan", "model.n_resgroups=2", "model.n_resblocks=2", "model.n_feats=16",
    "model.global_skip=false",
]  # fmt: skip


def module_from(tmp_path: Path, *overrides: str):
    cfg = compose_train(
        tmp_path, [*RCAN_SIZES, f"module.init_weights={INTEROP / RCAN}.pth", *overrides]
    )
    return instantiate(cfg.module)


@needs_shared_data
def test_published_weights_start_the_run_with_the_projects_own_output(tmp_path: Path) -> None:
    module = module_from(tmp_path, "model.reduction=4", "model.img_range=255")
    lr = to_float(read_image(INTEROP / f"{RCAN}.input.png"))[None]
    with torch.no_grad():
        output = hwc(module.net.eval()(lr)[0])
    off = np.abs(np.round(255 * output) - np.round(255 * np.load(INTEROP / f"{RCAN}.output.npy")))
    assert (off == 0).mean() >= 0.999 and off.max() <= 1


@needs_shared_data
def test_settings_that_differ_from_the_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(InstantiationException) as error:
        module_from(tmp_path)  # the paper's reduction 16 and the [0, 1] range
    cause = error.value.__cause__  # what `srlab.train` prints as its one-line error
    assert isinstance(cause, SRLabError)
    assert "model.reduction=4" in str(cause) and "model.img_range=255" in str(cause)


@pytest.mark.parametrize(
    ("model", "file", "scale", "overrides"),
    [
        ("imdn", "imdn/IMDN_x2.pth", 2, []),
        ("rlfn", "rlfn/rlfn_x2.pth", 2, ["model.img_range=255"]),  # trained on 0-255
        ("carn_m", "carn/carn_m.pth", 3, []),  # the multi-scale file's x3 branch
        ("vdsr", "vdsr/VDSR_Official.mat", 4, []),
    ],
)
def test_fine_tuning_starts_from_the_authors_file_as_eval_loads_it(
    model, file, scale, overrides, shared_data
):
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from srlab.utils.hydra import config_dir, partial_config
    from srlab.weights.loading import init_weights, load_net

    with initialize_config_dir(config_dir(), version_base=None):
        cfg = compose("train", overrides=[f"model={model}", f"scale={scale}", *overrides])
    factory = instantiate(cfg.model)
    net = factory()
    path = shared_data / "published" / file
    init_weights(net, partial_config(factory), path)
    lr = torch.rand(1, 3, 20, 24, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        assert torch.allclose(net.eval()(lr), load_net(path, scale)(lr), atol=1e-5)
