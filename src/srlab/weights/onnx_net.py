"""An exported .onnx SR net (`python -m srlab.export format=onnx`) run by onnxruntime, as a net.

`OnnxNet(path)` is an `nn.Module` that takes what srlab nets take, float (N, C, h, w) in [0, 1],
and returns (N, C, sh, sw), so `super_resolve` and `tiled_forward` run it like any net. The
session runs on the CPU: the input is copied there as float32 and the output comes back to the
input's device. The file's metadata (`read_metadata`) says its scale and the srlab that wrote it.
onnx and onnxruntime load when a file is opened, not with this module: every command that loads
a net imports it, and a mistake on its command line is printed before they would load.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from srlab.utils.errors import SRLabError

if TYPE_CHECKING:
    import onnxruntime


def read_metadata(path: str | Path) -> dict[str, str]:
    """The file's `metadata_props` (srlab.export writes `scale` and `srlab_version` there)."""
    path = Path(path)
    if not path.is_file():
        raise SRLabError(f"ONNX file {path} not found; write one with python -m srlab.export")
    import onnx
    from google.protobuf.message import DecodeError

    try:
        # The weights are not needed for the metadata; srlab's files have none outside anyway.
        model = onnx.load(path, load_external_data=False)
    except DecodeError as error:
        raise SRLabError(f"{path} is not an ONNX file ({error}); pass another path") from error
    return {prop.key: prop.value for prop in model.metadata_props}


def open_session(path: Path, threads: int | None) -> onnxruntime.InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return onnxruntime.InferenceSession(
        str(path), sess_options=options, providers=["CPUExecutionProvider"]
    )


class OnnxNet(nn.Module):
    """An .onnx file written by srlab.export, as a net: (N, C, h, w) -> (N, C, sh, sw).

    `threads`: onnxruntime's intra-op threads (None: its default, one per physical core).
    """

    def __init__(self, path: str | Path, threads: int | None = None):
        super().__init__()
        self.path = Path(path)
        self.metadata = read_metadata(self.path)
        if "scale" not in self.metadata:
            raise SRLabError(
                f"{self.path} has no `scale` in its metadata: it was not written by "
                "python -m srlab.export; export the checkpoint with it"
            )
        self.scale = int(self.metadata["scale"])
        self.session = open_session(self.path, threads)
        (model_input,) = self.session.get_inputs()
        self.input_name = model_input.name
        # What super_resolve asks of a net without a first Conv2d: the channels it takes.
        self.input_channels = int(model_input.shape[1])

    def forward(self, x: Tensor) -> Tensor:
        lr = x.detach().to("cpu", torch.float32).contiguous().numpy()
        (sr,) = self.session.run(None, {self.input_name: lr})
        return torch.from_numpy(sr).to(x.device)

    def extra_repr(self) -> str:
        return f"{self.path}, scale={self.scale}"
