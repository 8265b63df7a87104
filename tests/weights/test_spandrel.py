"""weights/spandrel.py: other projects' nets through spandrel, run and scored like srlab's own.

The fixture is RCAN's own layout with seeded random weights, and RCAN's own output for its
input (shared/data/interop/README.md). Tests that run spandrel skip where the optional extra
`srlab[zoo]` is not installed.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from helpers.images import set5
from srlab.data.degradation import bicubic_downscale
from srlab.data.io import read_image
from srlab.ops.inference import super_resolve
from srlab.ops.pixels import as_batch, to_float
from srlab.ops.quality import psnr
from srlab.utils.errors import SRLabError
from srlab.weights.spandrel import import_spandrel, load_spandrel

RCAN_FIXTURE = "rcan_official_g2b3f16x2"


@pytest.fixture
def spandrel():
    # Not pytest.importorskip("spandrel"): without torchvision, only import_spandrel's stand-in
    # lets spandrel import.
    if not _installed("spandrel"):
        pytest.skip("spandrel is not installed (the optional extra srlab[zoo])")
    return import_spandrel()


@pytest.fixture
def interop(shared_data: Path) -> Path:
    return shared_data / "interop"


def fixture_pair(interop: Path, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The fixture's input as float (1, 3, h, w) in [0, 1], and its project's output."""
    lr = to_float(read_image(interop / f"{name}.input.png"))[None]
    reference = torch.from_numpy(np.load(interop / f"{name}.output.npy")).permute(2, 0, 1)
    return lr, reference[None]


def test_missing_spandrel_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "spandrel", None)  # as if not installed
    with pytest.raises(SRLabError, match=r"nets needs spandrel: pip install 'srlab\[zoo\]'"):
        load_spandrel({})


def test_the_rcan_fixture_gives_rcans_own_output(spandrel, interop):
    net, scale, description = load_spandrel(interop / f"{RCAN_FIXTURE}.pth")
    assert (scale, description) == (2, "RCAN x2 (16nf, 2nrg, 3nrb)")
    lr, reference = fixture_pair(interop, RCAN_FIXTURE)
    sr = net(lr)
    torch.testing.assert_close(sr, reference, rtol=0, atol=1e-6)
    assert psnr(sr, reference, border=scale).item() == float("inf")  # the same saved levels


def test_the_input_is_left_as_it_was(spandrel, interop):
    net, _, _ = load_spandrel(interop / f"{RCAN_FIXTURE}.pth")
    lr, _ = fixture_pair(interop, RCAN_FIXTURE)
    lr = lr[..., :24, :32]
    kept = lr.clone()
    net(lr)  # spandrel's RCAN multiplies its input by 255 in place
    torch.testing.assert_close(lr, kept, rtol=0, atol=0)


def test_super_resolve_runs_it_whole_and_in_tiles(spandrel, interop):
    net, scale, _ = load_spandrel(interop / f"{RCAN_FIXTURE}.pth")
    lr, _ = fixture_pair(interop, RCAN_FIXTURE)
    lr = lr[..., :40, :56]
    whole = super_resolve(net, lr, scale)
    tiled = super_resolve(net, lr, scale, tile=24, tile_overlap=8)  # 2 x 3 tiles
    torch.testing.assert_close(whole, net(lr), rtol=0, atol=0)
    # RCAN's channel attention pools what it sees, so tiles may differ; here by < 1e-6.
    torch.testing.assert_close(tiled, whole, rtol=0, atol=1e-4)


def test_a_basicsr_wrapped_state_dict_and_a_safetensors_file_load_alike(
    spandrel, interop, tmp_path
):
    from safetensors.torch import save_file

    state_dict = torch.load(interop / f"{RCAN_FIXTURE}.pth", weights_only=True)
    save_file(state_dict, tmp_path / "rcan.safetensors")
    for source in ({"params_ema": state_dict}, tmp_path / "rcan.safetensors"):
        net, scale, description = load_spandrel(source)
        assert (scale, description) == (2, "RCAN x2 (16nf, 2nrg, 3nrb)")
        loaded = net.net.state_dict()
        assert all(torch.equal(loaded[key], value) for key, value in state_dict.items())


def test_an_unrecognised_file_is_named(spandrel, interop):
    path = interop / "rcan_basicsr_g2b2f16x2.pth"  # BasicSR's RCAN keys: spandrel knows none
    with pytest.raises(SRLabError, match=r"recognises no architecture in .*rcan_basicsr_g2b2"):
        load_spandrel(path)


def test_a_file_of_pickled_objects_is_refused_unread(spandrel, tmp_path):
    path = tmp_path / "whole_module.pth"
    torch.save(nn.Conv2d(3, 12, 3), path)  # a pickled module: loading it would run code
    with pytest.raises(SRLabError, match=r"cannot read checkpoint .*whole_module\.pth"):
        load_spandrel(path)


def test_a_gray_net_is_refused_with_its_channels(spandrel):
    from spandrel.architectures.Compact import Compact

    gray = Compact(num_in_ch=1, num_out_ch=1, num_feat=8, num_conv=2, upscale=2)
    with pytest.raises(SRLabError, match=r"Compact net for 1-channel input"):
        load_spandrel(gray.state_dict())


def test_super_resolve_runs_a_pixel_unshuffle_net(spandrel):
    from spandrel.architectures.ESRGAN import ESRGAN

    torch.manual_seed(0)  # Real-ESRGAN x2plus's layout: unshuffle by 2, then a x4 RRDB net
    unshuffle = ESRGAN(in_nc=12, out_nc=3, num_filters=8, num_blocks=1, scale=4, shuffle_factor=2)
    net, scale, description = load_spandrel(unshuffle.state_dict())
    assert (scale, description) == (2, "ESRGAN x2 (8nf, 1nb, unshuffle)")
    lr = torch.rand(1, 3, 12, 16)
    torch.testing.assert_close(super_resolve(net, lr, scale), net(lr))


def test_spandrel_imports_without_torchvision_and_leaves_no_stand_in(spandrel, interop):
    # Meaningful where torchvision is absent (spandrel installed with --no-deps): the stand-in
    # for the torchvision functions spandrel imports must not outlive spandrel's import.
    if "torchvision" in sys.modules or _installed("torchvision"):
        pytest.skip("torchvision is installed: spandrel imports it, no stand-in is used")
    load_spandrel(interop / f"{RCAN_FIXTURE}.pth")
    assert not [name for name in sys.modules if name.startswith("torchvision")]


def test_srlabs_rcan_scores_the_same_as_spandrels(spandrel, interop):
    from srlab.utils.hydra import instantiate
    from srlab.weights import layouts

    path = interop / f"{RCAN_FIXTURE}.pth"
    converted = layouts.detect(layouts.unwrap(torch.load(path, weights_only=True)))
    ours = instantiate(converted.net_config).eval()
    ours.load_state_dict(converted.state_dict)
    theirs, scale, _ = load_spandrel(path)
    hr = set5("baby")[:64, :48]
    lr = to_float(bicubic_downscale(hr, scale))[None]  # the protocol's exact degradation
    with torch.inference_mode():
        scores = [
            psnr(super_resolve(net, lr, scale), as_batch(hr), scale) for net in (ours, theirs)
        ]
    assert abs(scores[0].item() - scores[1].item()) < 1e-4


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None
