"""Datasets, the LightningDataModule and the degradation that makes LR from HR."""
