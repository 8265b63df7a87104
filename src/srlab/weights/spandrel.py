"""Published SR nets of other projects (SwinIR, HAT, ESRGAN, RCAN, DAT, ...) through spandrel.

spandrel (chaiNNer's model loader) tells the architecture and its sizes from the state dict
alone. `load_spandrel(path or state dict)` returns a `ZooNet`, which takes what srlab nets take,
float (B, 3, h, w) in [0, 1], and returns (B, 3, sh, sw) in [0, 1], so `super_resolve` scores any
such net by srlab's protocol; with its scale and a one-line description.

spandrel is the optional extra `srlab[zoo]`. Files are read by srlab (torch.load with
weights_only=True, or safetensors), not by spandrel's loader, which runs TorchScript `.pt` files.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from srlab.utils.errors import SRLabError
from srlab.weights.files import read_weights

INSTALL_HINT = (
    "pip install 'srlab[zoo]' (beside a CPU-only torch, PyPI's torchvision does not load: "
    "pip install --no-deps spandrel==0.4.2 safetensors einops instead)"
)
# The one torchvision module that spandrel imports (for LaMa and RestoreFormer only).
TORCHVISION_FUNCTIONAL = "torchvision.transforms.functional"


def needs_torchvision(*args: Any, **kwargs: Any) -> None:
    raise SRLabError(
        f"this spandrel architecture (LaMa or RestoreFormer) calls torchvision, which is not "
        f"installed: install the torchvision built for torch {torch.__version__}"
    )


def stand_in_attribute(name: str) -> Any:
    if name.startswith("__"):  # the import system probes __path__ and the like
        raise AttributeError(name)
    return needs_torchvision


@contextmanager
def torchvision_stand_in() -> Iterator[None]:
    """While spandrel imports, stand in for the torchvision functions it imports at import time.

    spandrel needs torchvision only when two architectures run, neither of them SR: LaMa
    (inpainting) and RestoreFormer (faces). PyPI's Linux torchvision is a CUDA build: beside a
    CPU-only torch it fails to import ("operator torchvision::nms does not exist") and, through
    torchmetrics, breaks `import lightning`. Without torchvision (spandrel installed with
    --no-deps), every SR architecture works; sys.modules is left as it was found.
    """
    stand_in = types.ModuleType(TORCHVISION_FUNCTIONAL)
    stand_in.__getattr__ = stand_in_attribute  # type: ignore[method-assign]
    sys.modules[TORCHVISION_FUNCTIONAL] = stand_in
    try:
        yield
    finally:
        del sys.modules[TORCHVISION_FUNCTIONAL]


def import_spandrel() -> types.ModuleType:
    try:
        if importlib.util.find_spec("torchvision") is None:
            with torchvision_stand_in():
                import spandrel
        else:
            import spandrel
    except ModuleNotFoundError as error:
        if error.name == "spandrel":
            raise SRLabError(
                f"loading other projects' nets needs spandrel: {INSTALL_HINT}"
            ) from None
        # one of spandrel's own dependencies (einops, safetensors)
        raise SRLabError(f"spandrel needs {error.name}, not installed: {INSTALL_HINT}") from error
    return spandrel


class ZooNet(nn.Module):
    """A spandrel ImageModelDescriptor as a net: (B, 3, h, w) in [0, 1] -> (B, 3, sh, sw).

    For inference: spandrel runs the net under torch.inference_mode, padded to the sizes it
    needs, and clamps the output to [0, 1]. Train `descriptor.model` itself instead.
    """

    def __init__(self, descriptor: Any):
        super().__init__()
        self.descriptor = descriptor  # not a Module: it pads, runs `net` and clamps
        self.net = descriptor.model  # a submodule, so .to(device) and .parameters() reach it
        self.scale = int(descriptor.scale)
        # Declared: a net that pixel-unshuffles first has a first conv of 4 or 16 x 3 channels.
        self.input_channels = int(descriptor.input_channels)

    def forward(self, lr: Tensor) -> Tensor:
        # A copy in, as spandrel's nets may scale their input in place (its RCAN: x *= 255);
        # a copy out, as an inference tensor cannot be updated in place (super_resolve clamps).
        return self.descriptor(lr.clone()).clone()


def load_spandrel(source: str | Path | Mapping[str, Any]) -> tuple[ZooNet, int, str]:
    """The net that spandrel recognises in a weights file (or state dict), on the CPU in eval
    mode; its scale; and a description such as "RCAN x2 (16nf, 2nrg, 3nrb)"."""
    spandrel = import_spandrel()
    name = "the given state dict" if isinstance(source, Mapping) else str(source)
    state_dict = dict(source) if isinstance(source, Mapping) else read_weights(source)
    try:
        descriptor = spandrel.ModelLoader().load_from_state_dict(state_dict)
    except spandrel.UnsupportedModelError:
        known = ", ".join(str(support.architecture.id) for support in spandrel.MAIN_REGISTRY)
        raise SRLabError(
            f"spandrel {spandrel.__version__} recognises no architecture in {name}; it knows "
            f"{known}. EDSR, and RCAN as BasicSR saves it, are not among them"
        ) from None
    except (KeyError, RuntimeError, ValueError, AssertionError) as error:
        raise SRLabError(
            f"spandrel took {name} for a known architecture but could not build it "
            f"({type(error).__name__}: {error}); the file is incomplete or of a variant "
            f"spandrel {spandrel.__version__} does not support"
        ) from error
    check_image_net(spandrel, descriptor, name)
    return ZooNet(descriptor).eval(), int(descriptor.scale), architecture_label(descriptor)


def check_image_net(spandrel: types.ModuleType, descriptor: Any, name: str) -> None:
    """srlab runs image-to-image nets on RGB: not inpainting (image and mask) nor gray nets."""
    if not isinstance(descriptor, spandrel.ImageModelDescriptor):
        raise SRLabError(
            f"{name} holds a {descriptor.architecture.id} {descriptor.purpose} net, which takes "
            "a mask besides the image; pass an SR net"
        )
    channels = (descriptor.input_channels, descriptor.output_channels)
    if channels != (3, 3):
        raise SRLabError(
            f"{name} holds a {descriptor.architecture.id} net for {channels[0]}-channel input "
            f"and {channels[1]}-channel output; srlab runs RGB nets (3 in, 3 out)"
        )


def architecture_label(descriptor: Any) -> str:
    """The architecture, scale and spandrel's tags (its sizes): "RCAN x2 (16nf, 2nrg, 3nrb)"."""
    text = f"{descriptor.architecture.id} x{descriptor.scale}"
    return f"{text} ({', '.join(descriptor.tags)})" if descriptor.tags else text
