"""The nets' files: reading checkpoints and published weights (`files.py`, `loading.py`),
other projects' layouts (`layouts/`), spandrel's architectures (`spandrel.py`), export to
ONNX/TorchScript (`exporters.py`) and running an ONNX file as a net (`onnx_net.py`).
"""
