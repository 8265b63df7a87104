"""srlab: residual-network super-resolution with Lightning + Hydra."""
