"""Measurements behind `python -m srlab.bench`, one concern per module.

common.py (statistics, machine, device), train_speed.py (Lightning vs a plain PyTorch loop),
e2e_speed.py (`python -m srlab.train` end to end against plain_loop.py, a loop that
shares none of srlab's training code), data_speed.py (the training loader), resize_speed.py
(imresize vs its NumPy twin), inference_speed.py (megapixels/s and peak memory),
export_speed.py (onnxruntime vs PyTorch), results.py (results.json and the Markdown tables).
"""
