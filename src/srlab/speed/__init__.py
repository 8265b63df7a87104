"""Measurements behind `python -m srlab.bench`, one concern per module.

common.py (statistics, machine, device), train_speed.py (Lightning vs a plain PyTorch loop),
data_speed.py (the training loader), resize_speed.py (imresize vs its NumPy twin),
inference_speed.py (megapixels/s and peak memory), report.py (the Markdown tables).
"""
