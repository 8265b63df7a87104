"""The nets, one module per family; the blocks that several families share in `blocks.py`.

Their files (checkpoints, other projects' layouts, export) are `srlab.weights`; the losses and
the LightningModule that trains them are `srlab.training`.
"""
